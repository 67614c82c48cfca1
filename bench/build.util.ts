import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import * as ts from 'typescript';

/**
 * Transpiles lib/ and bench/ to JavaScript under bench/.build (file by file, as ts-node's
 * transpile-only mode does), so that the worker runs plain `node` like a production worker:
 * ts-node itself holds about 100 MB of RSS (the TypeScript compiler), which is not the library's.
 * Returns the path of the compiled worker.
 */
export function buildWorker(root: string): string {
  const out = join(root, 'bench', '.build');
  const config = ts.readConfigFile(join(root, 'tsconfig.json'), ts.sys.readFile).config ?? {};
  const { options } = ts.convertCompilerOptionsFromJson(config.compilerOptions ?? {}, root);
  const compilerOptions: ts.CompilerOptions = {
    ...options,
    module: ts.ModuleKind.CommonJS,
    sourceMap: false,
    declaration: false,
    declarationMap: false,
    inlineSourceMap: false,
  };
  for (const dir of ['lib', 'bench']) {
    for (const file of walk(join(root, dir))) {
      if (!file.endsWith('.ts') || file.endsWith('.d.ts') || file.endsWith('.spec.ts')) continue;
      const target = join(out, relative(root, file)).replace(/\.ts$/, '.js');
      const source = readFileSync(file, 'utf8');
      let js = ts.transpileModule(source, { compilerOptions, fileName: file }).outputText;
      // The package name maps to lib/ (tsconfig `paths`); the compiled bench requires it relatively.
      const toLib = relative(dirname(target), join(out, 'lib')) || '.';
      js = js.replace(/require\("nestjs-data-export"\)/g, `require(${JSON.stringify(toLib.startsWith('.') ? toLib : `./${toLib}`)})`);
      if (readIfExists(target) !== js) {
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, js);
      }
    }
  }
  return join(out, 'bench', 'worker.js');
}

function* walk(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    if (name === '.build' || name === 'node_modules') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* walk(path);
    else yield path;
  }
}

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
