/** First characters that make a spreadsheet read a cell as a formula (OWASP CSV injection). */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * The text of a number (an optional sign, digits, an optional fraction and exponent): a
 * spreadsheet reads it as that number, never as a formula. Bigint and decimal columns are
 * written as such strings so that no digit is lost, and stay numbers.
 */
const NUMBER_TEXT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * One CSV cell from one value of an NDJSON row (the archive's value rules already applied:
 * redaction, masks, dates as ISO-8601 UTC, bigint and binary as strings): `null` an empty cell,
 * booleans `true`/`false`, numbers as JSON writes them, objects and arrays as one cell of JSON
 * text, strings as they are. With `neutralizeFormulas`, a string whose first character is `=`,
 * `+`, `-`, `@`, tab or carriage return gets a leading `'`, unless it is the text of a number.
 * @internal
 */
export function csvCell(value: unknown, neutralizeFormulas: boolean): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') {
    return neutralizeFormulas && FORMULA_START.test(value) && !NUMBER_TEXT.test(value) ? `'${value}` : value;
  }
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
