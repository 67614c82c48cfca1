import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '../..');

/** The `nestjs-data-export` bin, compiled from lib/cli with tsc into a temporary directory. */
export interface VerifyCli {
  /** The compiled `dist/cli/main.js` equivalent. */
  readonly main: string;
  /** Runs the bin with node: exit code and output. */
  run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  remove(): void;
}

/**
 * Compiles the bin (its own import graph only, without type checking: `tsc -p tsconfig.json`
 * checks it) and runs it as a child process, resolving packages from the repository's
 * node_modules as an installed package would from its own.
 */
export async function buildVerifyCli(): Promise<VerifyCli> {
  const out = mkdtempSync(join(tmpdir(), 'data-export-cli-'));
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  await run(process.execPath, [
    tsc, join(ROOT, 'lib/cli/main.ts'), '--outDir', out, '--rootDir', join(ROOT, 'lib'), '--module', 'commonjs',
    '--target', 'ES2021', '--esModuleInterop', '--importHelpers', '--skipLibCheck', '--types', 'node', '--noCheck',
  ]);
  const main = join(out, 'cli/main.js');
  statSync(main);
  return {
    main,
    async run(args) {
      try {
        const { stdout, stderr } = await run(process.execPath, [main, ...args], { env: { ...process.env, NODE_PATH: join(ROOT, 'node_modules') } });
        return { code: 0, stdout, stderr };
      } catch (err) {
        const e = err as { code: number; stdout: string; stderr: string };
        if (typeof e.code !== 'number') throw err;
        return { code: e.code, stdout: e.stdout, stderr: e.stderr };
      }
    },
    remove: () => rmSync(out, { recursive: true, force: true }),
  };
}

/** The first line of the built bin (its shebang). */
export function firstLine(path: string): string {
  return readFileSync(path, 'utf8').split('\n')[0];
}
