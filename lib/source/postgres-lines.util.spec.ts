import { inlineParameters } from './postgres-lines.util';

describe('inlineParameters', () => {
  it('replaces each placeholder by a quoted literal, typed by its context as a parameter is', () => {
    expect(inlineParameters('SELECT 1 FROM "t" "x" WHERE "x"."a" = $1 AND "x"."b" >= $2 AND "x"."c" = $3', ['acct', 42, true])).toBe(
      `SELECT 1 FROM "t" "x" WHERE "x"."a" = 'acct' AND "x"."b" >= '42' AND "x"."c" = 'true'`,
    );
    expect(inlineParameters('SELECT $1, $10', [null, 2, 3, 4, 5, 6, 7, 8, 9, 'ten'])).toBe(`SELECT NULL, 'ten'`);
  });

  it('escapes quotes, and writes values with backslashes as E literals', () => {
    expect(inlineParameters('SELECT $1', ["o'brien"])).toBe(`SELECT 'o''brien'`);
    expect(inlineParameters('SELECT $1', ["a\\' OR 1=1 --"])).toBe(`SELECT  E'a\\\\'' OR 1=1 --'`);
  });

  it('leaves dollar signs inside quoted identifiers and literals alone', () => {
    expect(inlineParameters(`SELECT "price$1", 'cost $1', "a""$1" FROM t WHERE x = $1`, ['v'])).toBe(
      `SELECT "price$1", 'cost $1', "a""$1" FROM t WHERE x = 'v'`,
    );
  });

  it('gives up on what it cannot write safely', () => {
    expect(inlineParameters('SELECT $1', [new Date()])).toBeUndefined();
    expect(inlineParameters('SELECT $1', [new Date(Number.NaN)], () => 'x')).toBeUndefined();
    expect(inlineParameters('SELECT $1', [Buffer.from('x')])).toBeUndefined();
    expect(inlineParameters('SELECT $1', ['nul\0'])).toBeUndefined();
    expect(inlineParameters('SELECT $1', [Number.NaN])).toBeUndefined();
    expect(inlineParameters('SELECT $2', ['only one'])).toBeUndefined();
    expect(inlineParameters('SELECT $1 -- $1', ['v'])).toBeUndefined();
    expect(inlineParameters("SELECT E'\\n', $1", ['v'])).toBeUndefined();
    expect(inlineParameters('SELECT $tag$ x $tag$, $1', ['v'])).toBeUndefined();
    expect(inlineParameters(`SELECT 'unterminated`, [])).toBeUndefined();
  });

  it("writes a date as the driver's text for it, quoted", () => {
    const date = new Date(Date.UTC(2026, 10, 25, 13, 14, 15, 167));
    expect(inlineParameters('SELECT 1 WHERE "x"."at" >= $1', [date], (d) => `${d.toISOString()}'`)).toBe(
      `SELECT 1 WHERE "x"."at" >= '2026-11-25T13:14:15.167Z'''`,
    );
  });
});
