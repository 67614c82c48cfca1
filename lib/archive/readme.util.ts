import { ExportFormat } from '../common/export-status.enum';
import { aboutOf, ArchiveContext } from './archive.writer';

/** The archive's README.txt: what it holds and how to handle it safely. @internal */
export function buildReadme(ctx: ArchiveContext): string {
  const csv = ctx.exportRow.format === ExportFormat.Csv;
  const row = ctx.exportRow;
  const personal = row.kind === 'personal' && row.subjectUserId;
  const lines = [
    'DATA EXPORT',
    '===========',
    '',
    `Account:     ${row.accountId}`,
    ...(personal ? [`About user:  ${row.subjectUserId}`, ...(row.requestedBy !== row.subjectUserId ? [`Requested by: ${row.requestedBy} (on your behalf)`] : [])] : []),
    'The export\'s id and time are in manifest.json.',
    '',
    ...(personal
      ? ['This archive is a copy of the data about you in this account, provided for your right', 'of access and data portability (GDPR Articles 15 and 20). It is structured and', 'machine-readable:']
      : ['This archive is a copy of your account data, provided for data portability', '(GDPR Article 20). It is structured and machine-readable:']),
    '',
    '  manifest.json             what the archive holds: each file, its row count and SHA-256',
    ...(csv
      ? ['  <category>.csv            one table per category: a header row of field names, then',
         '                            one row per record; opens in any spreadsheet']
      : ['  <category>.ndjson         one JSON object per line; read it line by line, no need to',
         '                            load a whole file into memory']),
    '  schemas/<category>.schema.json   JSON Schema (2020-12) of the rows of each category',
    '',
    'Categories:',
    ...ctx.categories.map((c) => `  ${c.name.padEnd(24)} ${c.description ?? ''}`.trimEnd()),
    '',
    'Values: dates are ISO-8601 in UTC, identifiers are as stored, large integers are strings,',
    'binary values are base64, and empty values are null. Secrets (passwords, tokens, keys)',
    'are never exported; some fields are masked to their last four characters.',
    '',
    ...(csv ? csvSection(ctx) : []),
    'Handle with care: this archive holds personal data. Store it encrypted, share it only',
    'with people entitled to it, and delete it when you no longer need it.',
    '',
    ...aboutSection(ctx),
    ...notIncludedSection(ctx),
    ...verifySection(ctx),
  ];
  return lines.join('\n');
}

/** How the CSV files are written, and what the formula guard changed. */
function csvSection(ctx: ArchiveContext): string[] {
  const { neutralizeFormulas = true, bom = false } = ctx.csv ?? {};
  return [
    'CSV files',
    '---------',
    `The files are CSV as RFC 4180 defines it: UTF-8${bom ? ' with a byte order mark (for Excel)' : ' without a byte order mark'},`,
    'commas between cells, each record ended by CRLF, and a cell that holds a comma, a double',
    'quote or a line break enclosed in double quotes (a double quote inside it is doubled).',
    'The first row names the fields, in the order of the schema. Cells hold the same values as',
    'the JSON rows would: an empty cell is an empty value (null, or an empty text), true and',
    'false are written as such, dates are ISO-8601 in UTC, large integers are digits, binary',
    'values are base64, and structured values (lists, objects) are one cell of JSON text.',
    '',
    ...(neutralizeFormulas
      ? [
          'Formulas: a spreadsheet runs a cell that starts with =, +, -, @, a tab or a carriage',
          'return as a formula. To keep a text from running when you open a file, every text cell',
          "that starts with one of these characters has a ' (apostrophe) added in front of it; the",
          "rest of the cell is as stored. Numbers are never changed. Remove the leading ' to get the",
          'text back. (The service can turn this off: csv.neutralizeFormulas set to false.)',
        ]
      : [
          'Formulas: cells are written exactly as stored. A text that starts with =, +, -, @, a tab',
          'or a carriage return may run as a formula when a spreadsheet opens the file: open the',
          'files as text, or import them with every column set to "Text".',
        ]),
    '',
  ];
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
    ...(n.accountOnly ?? []).map((c) => `  - ${c}: data of the account as a whole, not about one member (in account exports only)`),
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
