import { Injectable } from '@nestjs/common';

/**
 * The time every export rule reads (cooldowns, link and download expiry). Override it in tests:
 * `{ provide: ExportClock, useValue: fixedClock }`.
 * @publicApi
 */
@Injectable()
export class ExportClock {
  now(): Date {
    return new Date();
  }
}
