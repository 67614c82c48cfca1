#!/usr/bin/env node
import { readFileSync, statSync } from 'node:fs';
import { createPublicKey, KeyObject } from 'node:crypto';
import { verifyExportArchive } from './archive.verifier';

const USAGE = [
  'Usage: nestjs-data-export verify <archive> [--key <public-key.pem>] [--json]',
  '',
  '  Checks an export archive (.zip, .json or .json.gz): the ZIP structure, every file against',
  '  the SHA-256, size and row count in manifest.json, every row against its JSON Schema, and',
  '  that the archive holds nothing the manifest does not describe.',
  '',
  '  --key <file>  the Ed25519 public key (PEM) that must have signed manifest.json',
  '  --json        print the verdict as one JSON object',
  '',
  '  Exit status: 0 the archive is whole, 1 it is not, 2 the command was used wrongly.',
].join('\n');

function usage(message?: string): never {
  if (message) process.stderr.write(`nestjs-data-export: ${message}\n\n`);
  process.stderr.write(`${USAGE}\n`);
  process.exit(2);
}

/** The `nestjs-data-export` command: `verify <archive> [--key <file>] [--json]`. */
async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (command !== 'verify') usage(command ? `unknown command "${command}"` : 'no command given');
  let archive: string | undefined;
  let keyFile: string | undefined;
  let json = false;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === '--json') json = true;
    else if (arg === '--key') keyFile = rest[++i] ?? usage('--key needs the path of a public key file');
    else if (arg.startsWith('--key=')) keyFile = arg.slice('--key='.length);
    else if (arg.startsWith('-')) usage(`unknown option "${arg}"`);
    else if (archive === undefined) archive = arg;
    else usage('give one archive at a time');
  }
  if (archive === undefined) usage('no archive given');
  try {
    if (!statSync(archive).isFile()) usage(`${archive} is not a file`);
  } catch (err) {
    usage(`cannot read ${archive} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let publicKey: KeyObject | undefined;
  if (keyFile !== undefined) {
    let pem: string;
    try {
      pem = readFileSync(keyFile, 'utf8');
    } catch (err) {
      usage(`cannot read the key file ${keyFile} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    try {
      publicKey = createPublicKey(pem);
    } catch {
      usage(`${keyFile} is not a PEM public key; make it with \`openssl pkey -in <private.pem> -pubout -out <public.pem>\``);
    }
    if (publicKey.asymmetricKeyType !== 'ed25519') usage(`${keyFile} is not an Ed25519 key (its type is ${publicKey.asymmetricKeyType}); archives are signed with Ed25519`);
  }
  const verdict = await verifyExportArchive(archive, { publicKey });
  if (json) {
    process.stdout.write(`${JSON.stringify({ archive, ...verdict })}\n`);
  } else if (verdict.ok) {
    const signature =
      verdict.signature === 'valid'
        ? `, signature valid${verdict.keyId ? ` (key ${verdict.keyId})` : ''}`
        : verdict.signature === 'unchecked'
          ? ', signed (signature not checked: give --key)'
          : '';
    process.stdout.write(`OK ${archive}: ${verdict.categories} ${verdict.categories === 1 ? 'category' : 'categories'}, ${verdict.rows} rows, sha256 ${verdict.sha256}${signature}\n`);
  } else {
    process.stdout.write(`FAILED ${archive}: ${verdict.file}: ${verdict.problem}\n`);
  }
  return verdict.ok ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err: Error) => {
    process.stderr.write(`nestjs-data-export: ${err.message}\n`);
    process.exitCode = 2;
  },
);
