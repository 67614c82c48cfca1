import { csvCell } from './csv-cell.util';

describe('csvCell', () => {
  it('writes null as an empty cell, booleans and numbers as JSON does, objects and arrays as JSON text', () => {
    expect([null, undefined, true, false, 0, -5, 1.5, 1e21].map((v) => csvCell(v, true))).toEqual(['', '', 'true', 'false', '0', '-5', '1.5', '1e+21']);
    expect(csvCell({ a: [1, '=x'] }, true)).toBe('{"a":[1,"=x"]}');
    expect(csvCell(['-1', null], true)).toBe('["-1",null]');
  });

  it.each(['=1+1', '+1+2', "-2+3+cmd|' /C calc'!A0", '@SUM(A1)', '\t=1', '\r=1', '-', '+', '=', '-x5'])(
    'neutralizes the text %p with a leading quote',
    (text) => {
      expect(csvCell(text, true)).toBe(`'${text}`);
      expect(csvCell(text, false)).toBe(text);
    },
  );

  it.each(['-5', '+7.25', '-9007199254740993', '-1.5e3', '-.5', 'a=b', ' =1', "'=1", '', '2026-01-10T09:30:00.123Z'])(
    'leaves %p as it is: the text of a number, or no formula sign first',
    (text) => {
      expect(csvCell(text, true)).toBe(text);
    },
  );
});
