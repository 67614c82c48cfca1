import type { ArchiveContext } from './archive.writer';

/** The archive's README.txt: what it holds and how to handle it safely. @internal */
export function buildReadme(ctx: ArchiveContext): string {
  const lines = [
    'DATA EXPORT',
    '===========',
    '',
    `Account:     ${ctx.exportRow.accountId}`,
    `Export:      ${ctx.exportRow.id}`,
    `Exported at: ${ctx.exportedAt.toISOString()}`,
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
  ];
  return lines.join('\n');
}
