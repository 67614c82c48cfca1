import { StringDecoder } from 'node:string_decoder';

/** A document that is not valid JSON, or not an export's. @internal */
export class JsonDocumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JsonDocumentError';
  }
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

interface Frame {
  kind: 'object' | 'array';
  /** Values kept (everything but `data`'s arrays). */
  value?: Record<string, Json> | Json[];
  /** Where this frame sits: 'top', 'data' (the data object), 'rows' (a category's array), 'plain'. */
  role: 'top' | 'data' | 'rows' | 'plain';
  /** The category name of a 'rows' frame. */
  category?: string;
  key?: string;
  expect: 'key-or-end' | 'key' | 'colon' | 'value' | 'value-or-end' | 'comma-or-end';
}

const NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;
const LITERALS: Record<string, Json> = { true: true, false: false, null: null };

/**
 * Reads an export's JSON document (`{ ..., "data": { <category>: [rows] }, "summary": ... }`)
 * as it streams: every top-level value but `data` is kept, and each row of `data` is handed to
 * `onRow` once parsed, then dropped, so memory holds one row at a time whatever the size.
 * @internal
 */
export class JsonDocumentReader {
  private readonly decoder = new StringDecoder('utf8');
  private readonly stack: Frame[] = [];
  private readonly top: Record<string, Json> = {};
  private started = false;
  private done = false;
  /** A string or a number/literal that a chunk ended inside. */
  private pending = '';
  private inString = false;
  private stringIsKey = false;
  private inBare = false;
  private escaped = false;

  /** `onCategory` is called as each category's array opens, before its rows. */
  constructor(
    private readonly onRow: (category: string, row: Json) => void,
    private readonly onCategory: (category: string) => void = () => undefined,
  ) {}

  write(chunk: Buffer): void {
    this.scan(this.decoder.write(chunk));
  }

  /** Ends the document; returns its top-level values (without `data`'s rows). */
  end(): Record<string, Json> {
    this.scan(this.decoder.end());
    if (this.inBare) this.finishBare();
    if (this.inString || !this.done) throw new JsonDocumentError('the document ends before its last value is complete');
    return this.top;
  }

  private scan(text: string): void {
    const n = text.length;
    for (let i = 0; i < n; i++) {
      if (this.inString) {
        // Copy up to the closing quote in one slice.
        let j = i;
        while (j < n) {
          const c = text.charCodeAt(j);
          if (this.escaped) this.escaped = false;
          else if (c === 0x5c) this.escaped = true;
          else if (c === 0x22) break;
          j++;
        }
        this.pending += text.slice(i, j);
        if (j === n) return;
        this.inString = false;
        let value: string;
        try {
          value = JSON.parse(`"${this.pending}"`) as string;
        } catch {
          throw new JsonDocumentError('a string in the document is not valid JSON');
        }
        this.pending = '';
        if (this.stringIsKey) this.key(value);
        else this.value(value);
        i = j;
        continue;
      }
      const ch = text[i];
      if (this.inBare) {
        if (/[0-9a-zA-Z.+-]/.test(ch)) {
          this.pending += ch;
          continue;
        }
        this.finishBare();
      }
      if (ch === ' ' || ch === '\n' || ch === '\r' || ch === '\t') continue;
      if (this.done) throw new JsonDocumentError('there is more after the end of the document');
      const frame = this.stack[this.stack.length - 1];
      if (ch === '"') {
        this.inString = true;
        this.stringIsKey = !!frame && frame.kind === 'object' && (frame.expect === 'key-or-end' || frame.expect === 'key');
        if (!this.stringIsKey) this.expectValue();
      } else if (ch === '{' || ch === '[') {
        this.expectValue();
        this.open(ch === '{' ? 'object' : 'array');
      } else if (ch === '}' || ch === ']') {
        const kind = ch === '}' ? 'object' : 'array';
        if (!frame || frame.kind !== kind || !(frame.expect === 'comma-or-end' || frame.expect === `${kind === 'object' ? 'key' : 'value'}-or-end`)) {
          throw new JsonDocumentError(`an unexpected "${ch}" in the document`);
        }
        this.close();
      } else if (ch === ':') {
        if (!frame || frame.expect !== 'colon') throw new JsonDocumentError('an unexpected ":" in the document');
        frame.expect = 'value';
      } else if (ch === ',') {
        if (!frame || frame.expect !== 'comma-or-end') throw new JsonDocumentError('an unexpected "," in the document');
        frame.expect = frame.kind === 'object' ? 'key' : 'value';
      } else if (/[-0-9tfn]/.test(ch)) {
        this.expectValue();
        this.inBare = true;
        this.pending = ch;
      } else {
        throw new JsonDocumentError('the document is not valid JSON');
      }
    }
  }

  private finishBare(): void {
    const raw = this.pending;
    this.inBare = false;
    this.pending = '';
    if (raw in LITERALS) this.value(LITERALS[raw]);
    else if (NUMBER.test(raw)) this.value(Number(raw));
    else throw new JsonDocumentError('a value in the document is not valid JSON');
  }

  /** Checks that a value may start here. */
  private expectValue(): void {
    const frame = this.stack[this.stack.length - 1];
    if (!frame) {
      if (this.started) throw new JsonDocumentError('there is more after the end of the document');
      return;
    }
    if (frame.expect !== 'value' && frame.expect !== 'value-or-end') throw new JsonDocumentError('a value in the document is out of place');
  }

  private key(name: string): void {
    const frame = this.stack[this.stack.length - 1];
    frame.key = name;
    frame.expect = 'colon';
  }

  private open(kind: 'object' | 'array'): void {
    const parent = this.stack[this.stack.length - 1];
    let role: Frame['role'] = 'plain';
    let category: string | undefined;
    if (!parent) {
      if (kind !== 'object') throw new JsonDocumentError('the document is not a JSON object');
      role = 'top';
      this.started = true;
    } else if (parent.role === 'top' && parent.key === 'data') {
      if (kind !== 'object') throw new JsonDocumentError('"data" is not an object of categories');
      role = 'data';
    } else if (parent.role === 'data') {
      if (kind !== 'array') throw new JsonDocumentError(`data.${parent.key} is not an array of rows`);
      role = 'rows';
      category = parent.key;
      this.onCategory(category!);
    }
    const keeps = role === 'top' || role === 'plain';
    this.stack.push({
      kind,
      role,
      category,
      value: keeps ? (role === 'top' ? this.top : kind === 'object' ? {} : []) : undefined,
      expect: kind === 'object' ? 'key-or-end' : 'value-or-end',
    });
  }

  private close(): void {
    const frame = this.stack.pop()!;
    if (frame.role === 'top') {
      this.done = true;
      return;
    }
    if (frame.role === 'data' || frame.role === 'rows') {
      this.stack[this.stack.length - 1].expect = 'comma-or-end';
      if (frame.role === 'data') this.top.data = {};
      return;
    }
    this.value(frame.value as Json);
  }

  /** A complete value, for the frame on top of the stack. */
  private value(value: Json): void {
    const frame = this.stack[this.stack.length - 1];
    if (!frame) throw new JsonDocumentError('the document is not a JSON object');
    if (frame.role === 'rows') this.onRow(frame.category!, value);
    else if (frame.role === 'data') throw new JsonDocumentError(`data.${frame.key} is not an array of rows`);
    else if (frame.kind === 'array') (frame.value as Json[]).push(value);
    // As JSON.parse does: an own property, even one named __proto__.
    else Object.defineProperty(frame.value, frame.key!, { value, enumerable: true, writable: true, configurable: true });
    frame.expect = 'comma-or-end';
  }
}
