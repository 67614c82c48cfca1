import { Inject, Injectable } from '@nestjs/common';
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { ExportClock } from '../common/export.clock';
import { ExportLinkExpiredException, ExportLinkInvalidException } from '../common/export.exception';
import { EXPORT_RESOLVED_OPTIONS, EXPORT_ROUTE_PATH } from '../common/export.internal-constants';
import type { DataExport } from '../entities/data-export.entity';

/** What the signer reads of the module's resolved options. @internal */
export interface ExportLinkSettings {
  readonly secret: string;
  readonly baseUrl: string;
  readonly linkTtlMs: number;
  readonly confirmation: { readonly ttlMs: number };
}

/** What a link token allows. A token of one purpose is refused for the other. @publicApi */
export type ExportLinkPurpose = 'confirm' | 'download';

const TOKEN = /^([0-9]{1,12})\.([A-Za-z0-9_-]{12})\.([A-Za-z0-9_-]{43})$/;

/**
 * Signs and verifies link tokens: `<expiry>.<nonce>.<mac>`, where the mac is HMAC-SHA256 over
 * version, purpose, export id, expiry and nonce, with a key derived from the module secret.
 * Each token is unique (random nonce) and compared in constant time.
 * @internal
 */
@Injectable()
export class ExportLinkSigner {
  private readonly key: Buffer;

  constructor(
    @Inject(EXPORT_RESOLVED_OPTIONS) private readonly options: ExportLinkSettings,
    @Inject(EXPORT_ROUTE_PATH) private readonly path: string,
    private readonly clock: ExportClock,
  ) {
    this.key = Buffer.from(hkdfSync('sha256', options.secret, 'nestjs-data-export', 'link-signing/v1', 32));
  }

  /** A token for `purpose` on export `id`, valid until `expiresAt` (second precision). */
  sign(id: string, purpose: ExportLinkPurpose, expiresAt: Date): string {
    const exp = Math.floor(expiresAt.getTime() / 1000);
    const nonce = randomBytes(9).toString('base64url');
    return `${exp}.${nonce}.${this.mac(id, purpose, exp, nonce).toString('base64url')}`;
  }

  /**
   * Checks a token. Throws `ExportLinkInvalidException` when it is missing, malformed, tampered
   * or made for another export or purpose; `ExportLinkExpiredException` when it is genuine but
   * past its expiry. Returns the expiry.
   */
  verify(id: string, purpose: ExportLinkPurpose, token: unknown): Date {
    const match = typeof token === 'string' && token.length < 128 ? TOKEN.exec(token) : null;
    if (!match) throw new ExportLinkInvalidException();
    const exp = Number(match[1]);
    const expected = this.mac(id, purpose, exp, match[2]);
    const given = Buffer.from(match[3], 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new ExportLinkInvalidException();
    }
    const expiresAt = new Date(exp * 1000);
    if (expiresAt.getTime() <= this.clock.now().getTime()) throw new ExportLinkExpiredException();
    return expiresAt;
  }

  /** The confirmation link of a pending export; valid until the confirmation ttl ends. */
  confirmationUrl(row: DataExport): string {
    const expiresAt = new Date(row.createdAt.getTime() + this.options.confirmation.ttlMs);
    return this.url(row.id, 'confirm', this.sign(row.id, 'confirm', expiresAt));
  }

  /** A fresh download link: `linkTtl` from now, and never past the export's own expiry. */
  downloadUrl(row: DataExport): string {
    const linkEnd = this.clock.now().getTime() + this.options.linkTtlMs;
    const expiresAt = new Date(Math.min(linkEnd, row.expiresAt?.getTime() ?? linkEnd));
    return this.url(row.id, 'download', this.sign(row.id, 'download', expiresAt));
  }

  private url(id: string, action: ExportLinkPurpose, token: string): string {
    return `${this.options.baseUrl}/${this.path}/${encodeURIComponent(id)}/${action}?token=${encodeURIComponent(token)}`;
  }

  private mac(id: string, purpose: string, exp: number, nonce: string): Buffer {
    return createHmac('sha256', this.key).update(`v1\n${purpose}\n${id}\n${exp}\n${nonce}`).digest();
  }
}
