const UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * A duration: milliseconds as a number, or a string such as `'90s'`, `'30m'`, `'24h'`, `'7d'`.
 * @publicApi
 */
export type Duration = number | `${number}${'ms' | 's' | 'm' | 'h' | 'd'}`;

/**
 * Parses a {@link Duration} into milliseconds; returns `undefined` when it is not one.
 * @internal
 */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') {
    return Number.isFinite(value) && value > 0 ? value : undefined;
  }
  if (typeof value !== 'string') {
    return undefined;
  }
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(value.trim());
  if (!match) {
    return undefined;
  }
  const ms = Number(match[1]) * UNITS[match[2]];
  return ms > 0 ? ms : undefined;
}
