import type { LoggerService } from '@nestjs/common';

/** Every line an app logs, at every level, as text (an error with its stack). */
export class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  private add = (...args: unknown[]) => this.lines.push(args.map((a) => (a instanceof Error ? `${a.message}\n${a.stack}` : typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
  log = this.add;
  error = this.add;
  warn = this.add;
  debug = this.add;
  verbose = this.add;
  fatal = this.add;
}
