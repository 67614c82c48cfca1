import { readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { deleteRedisKeys, REDIS_PREFIXES_FILE_ENV } from './global-setup';

/**
 * Removes the keys left under every Bull prefix the suite's hosts recorded (a host a failed test
 * never closed), so that the shared Redis holds nothing of the run.
 */
export default async function globalTeardown(): Promise<void> {
  const file = process.env[REDIS_PREFIXES_FILE_ENV];
  if (!file) return;
  const prefixes = [...new Set(readFileSync(file, 'utf8').split('\n').filter(Boolean))];
  await deleteRedisKeys(prefixes);
  rmSync(dirname(file), { recursive: true, force: true });
}
