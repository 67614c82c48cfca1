import { parseDuration } from './duration.util';

describe('parseDuration', () => {
  it.each([
    [1500, 1500],
    ['90s', 90_000],
    ['30m', 1_800_000],
    ['24h', 86_400_000],
    ['7d', 604_800_000],
    ['250ms', 250],
    ['1.5h', 5_400_000],
  ])('%p is %p ms', (input, ms) => expect(parseDuration(input)).toBe(ms));

  it.each([0, -1, NaN, Infinity, '', '24', '24 hours', 'h', '-5m', null, {}])('%p is not a duration', (input) =>
    expect(parseDuration(input)).toBeUndefined(),
  );
});
