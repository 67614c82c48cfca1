/**
 * Bounded waits. Nothing the library waits on (a database, Redis, a storage) may hold a run, a
 * request or a shutdown forever.
 */

/** `work`, or a rejection (`Error('timed out')`) after `ms`. @internal */
export function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** Waits for `work` to settle, at most `ms`; never rejects. @internal */
export async function settleWithin(work: Promise<unknown> | undefined, ms: number): Promise<void> {
  if (work) await withTimeout(work, ms).catch(() => undefined);
}
