import { aboutOf, ArchiveContext } from './archive.writer';

/** The archive's README.txt: what it holds and how to handle it safely. @internal */
export function buildReadme(ctx: ArchiveContext): string {
  const lines = [
    'DATA EXPORT',
    '===========',
    '',
    `Account:     ${ctx.exportRow.accountId}`,
    'The export\'s id and time are in manifest.json.',
    '',
    'This archive is a copy of your account data, provided for data portability',
    '(GDPR Article 20). It is structured and machine-readable:',
    '',
    '  manifest.json             what the archive holds: each file, its row count and SHA-256',
    '  <category>.ndjson         one JSON object per line; read it line by line, no need to',
    '                            load a whole file into memory',
    '  schemas/<category>.schema.json   JSON Schema (2020-12) of the rows of each category',
    '',
    'Categories:',
    ...ctx.categories.map((c) => `  ${c.name.padEnd(24)} ${c.description ?? ''}`.trimEnd()),
    '',
    'Values: dates are ISO-8601 in UTC, identifiers are as stored, large integers are strings,',
    'binary values are base64, and empty values are null. Secrets (passwords, tokens, keys)',
    'are never exported; some fields are masked to their last four characters.',
    '',
    'Handle with care: this archive holds personal data. Store it encrypted, share it only',
    'with people entitled to it, and delete it when you no longer need it.',
    '',
    ...aboutSection(ctx),
    ...notIncludedSection(ctx),
    ...verifySection(ctx),
  ];
  return lines.join('\n');
}

/** "About this data": purpose, recipients, retention and source of each category that has them. */
function aboutSection(ctx: ArchiveContext): string[] {
  const blocks = ctx.categories.flatMap((c) => {
    const about = aboutOf(ctx, c);
    if (!about) return [];
    return [
      `  ${c.name}`,
      ...(about.purpose ? [`    Purpose:    ${about.purpose}`] : []),
      ...(about.recipients?.length ? [`    Recipients: ${about.recipients.join('; ')}`] : []),
      ...(about.retention ? [`    Retention:  ${about.retention}`] : []),
      ...(about.source ? [`    Source:     ${about.source}`] : []),
    ];
  });
  return blocks.length > 0 ? ['About this data', '---------------', ...blocks, ''] : [];
}

/** "What is not included": so that an export that leaves something out never looks complete. */
function notIncludedSection(ctx: ArchiveContext): string[] {
  const n = ctx.notIncluded;
  const lines = [
    ...n.notes.map((note) => `  - ${note}`),
    ...n.excluded.map((e) => `  - ${e.name}: ${e.reason}`),
    ...n.notRequested.map((c) => `  - ${c}: not requested in this export (request it again with all categories)`),
    ...n.notCovered.map((e) => `  - ${e}: not part of the export`),
    ...n.redactedFields.map((f) =>
      `  - ${f.category}.${f.field}: ${f.reason === 'sensitive-name' ? 'a credential, never exported' : 'left out on purpose'}`,
    ),
  ];
  return ['What is not included', '--------------------', ...(lines.length > 0 ? lines : ['  Nothing: every category is complete.']), ''];
}

/** "Checking this archive": the verify command, and each file's SHA-256 with standard tools. */
function verifySection(ctx: ArchiveContext): string[] {
  const file = `${ctx.categories[0]?.name ?? 'data'}.ndjson`;
  return [
    'Checking this archive',
    '---------------------',
    'To check that the archive is whole (every file, checksum, row count and row format as the',
    'manifest says), run, with Node.js 20.19 or later installed:',
    '',
    '  npx nestjs-data-export verify <this-file>.zip',
    '',
    'It prints one line: OK, or FAILED with the file that is wrong. Without Node.js, unpack the',
    'archive and compare each file\'s SHA-256 with its "sha256" in manifest.json:',
    '',
    `  Linux:    sha256sum ${file}`,
    `  macOS:    shasum -a 256 ${file}`,
    `  Windows:  Get-FileHash ${file} -Algorithm SHA256   (PowerShell; it prints capitals)`,
    '',
    ...(ctx.signing
      ? [
          'manifest.json is signed (Ed25519): manifest.sig holds the signature of its exact bytes.',
          'Ask the service for its public key, then run:',
          '',
          '  npx nestjs-data-export verify <this-file>.zip --key <public-key.pem>',
          '',
        ]
      : []),
  ];
}
