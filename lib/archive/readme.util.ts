import { aboutOf, ArchiveContext } from './archive.writer';

/** The archive's README.txt: what it holds and how to handle it safely. @internal */
export function buildReadme(ctx: ArchiveContext): string {
  const row = ctx.exportRow;
  const personal = row.kind === 'personal' && row.subjectUserId;
  const lines = [
    'DATA EXPORT',
    '===========',
    '',
    `Account:     ${row.accountId}`,
    ...(personal ? [`About user:  ${row.subjectUserId}`, ...(row.requestedBy !== row.subjectUserId ? [`Requested by: ${row.requestedBy} (on your behalf)`] : [])] : []),
    `Export:      ${row.id}`,
    `Exported at: ${ctx.exportedAt.toISOString()}`,
    '',
    ...(personal
      ? ['This archive is a copy of the data about you in this account, provided for your right', 'of access and data portability (GDPR Articles 15 and 20). It is structured and', 'machine-readable:']
      : ['This archive is a copy of your account data, provided for data portability', '(GDPR Article 20). It is structured and machine-readable:']),
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
    ...(n.accountOnly ?? []).map((c) => `  - ${c}: data of the account as a whole, not about one member (in account exports only)`),
    ...n.notCovered.map((e) => `  - ${e}: not part of the export`),
    ...n.redactedFields.map((f) =>
      `  - ${f.category}.${f.field}: ${f.reason === 'sensitive-name' ? 'a credential, never exported' : 'left out on purpose'}`,
    ),
  ];
  return ['What is not included', '--------------------', ...(lines.length > 0 ? lines : ['  Nothing: every category is complete.']), ''];
}
