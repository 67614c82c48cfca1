/**
 * Every developer-facing message in one place; each says how to fix the problem.
 * @internal
 */
export const ExportMessages = {
  missingOptions: () =>
    'ExportModule options are missing. Pass them to ExportModule.forRoot({ secret, ... }) or return them from forRootAsync({ useFactory }).',
  missingSecret: () =>
    'ExportModule option "secret" is missing. Set it to a random string of at least 32 characters (e.g. from process.env.EXPORT_SECRET).',
  shortSecret: (min: number, got: number) =>
    `ExportModule option "secret" is too short (${got} characters). Use at least ${min} random characters.`,
  optionOutOfRange: (name: string, min: number, max: number, value: unknown) =>
    `ExportModule option "${name}" must be an integer from ${min} to ${max}; got ${describe(value)}.`,
  badFlag: (name: string, value: unknown) =>
    `ExportModule option "${name}" must be true or false; got ${describe(value)}. Parse environment variables before passing them (e.g. process.env.X === 'true').`,
  badDuration: (name: string, value: unknown) =>
    `ExportModule option "${name}" is not a valid duration: ${describe(value)}. Use milliseconds (a positive number) or a string such as '90s', '30m', '24h' or '7d'.`,
  badAuditOption: (value: unknown) =>
    `ExportModule option "audit" must be false (no audit trail) or { retention?: duration }; got ${describe(value)}.`,
  unknownStorage: (value: unknown) =>
    `ExportModule option "storage" is not an ExportStorage: ${describe(value)}. Pass an instance of LocalDiskStorage or of a class extending ExportStorage.`,
  badRedis: () =>
    'ExportModule option "redis" must be a redis:// URL or an ioredis options object; omit it to use BullModule.forRoot().',
  badPrefix: (value: unknown) =>
    `ExportModule option "prefix" must be a non-empty string of at most 100 characters (Bull's key prefix, such as 'myapp-prod'); got ${describe(value)}.`,
  badBaseUrl: (value: unknown) =>
    `ExportModule option "baseUrl" must be an absolute http(s) URL without query, such as 'https://app.example.com/api'; got ${describe(value)}.`,
  badPath: (value: unknown) =>
    `ExportModule option "path" must be a route path such as 'exports' or 'account/exports'; got ${describe(value)}.`,
  missingHttpPackage: (pkg: string) =>
    `ExportModule's built-in endpoints validate requests with class-validator and class-transformer, and "${pkg}" is not installed. Run \`npm install class-validator class-transformer\`, or set http: false to leave the endpoints out.`,
  badCoverage: () =>
    'ExportModule option "coverage" must be { required?: boolean, excluded?: { EntityName: "reason" }, notes?: ["…"] } with non-empty texts.',
  badAbout: (where: string) =>
    `${where} must be { purpose?, retention?, source? } (non-empty texts) with recipients? a list of texts.`,
  notCovered: (entities: string[]) =>
    `Not in the export: ${entities.join(', ')}. Mark each with @Exportable({ category, scope }) to export it, or leave it out on purpose with @ExportExcluded({ reason }) (or the coverage.excluded option).`,
  badExcludedEntity: (name: string) =>
    `ExportModule option "coverage.excluded" names ${JSON.stringify(name)}, which is not an entity of the DataSource. Use the entity's class name.`,
  badExcludedReason: (entity: string) => `@ExportExcluded on ${entity} needs a reason: @ExportExcluded({ reason: 'why it is not exported' }).`,
  badCsv: () =>
    'ExportModule option "csv" must be { neutralizeFormulas?: boolean, bom?: boolean }; omit it for the defaults (formulas neutralized, no BOM).',
  csvUnknownField: (category: string, key: string) =>
    `Export failed while writing category "${category}" as CSV: a row has the field ${JSON.stringify(key)}, which is not a column of its CSV file (the header is written before the rows). Name every field in the exporter's schema.properties (or its fields option).`,
  badRoles: () => 'ExportModule option "allowedRoles" must be an array of non-empty strings.',
  badInstant: (value: unknown) =>
    `ExportModule option "instant" must be { maxRows: number, cooldown?: duration } (e.g. { maxRows: 10000, cooldown: '1m' }); got ${describe(value)}. Omit it to turn instant downloads off.`,
  instantWithConfirmation: () =>
    'ExportModule options "instant" and "confirmation.required" cannot be combined: an instant download streams the archive at once, without the email confirmation. Remove "instant", or set confirmation.required to false.',
  badPrincipal: () => 'ExportModule option "principal" must be a function (req) => principal.',
  badSigning: () =>
    'ExportModule option "signing" must be { privateKey, keyId? } with privateKey the PEM text (or KeyObject) of an Ed25519 private key; omit it to leave archives unsigned.',
  unreadableSigningKey: () =>
    'ExportModule option "signing.privateKey" is not a readable private key. Pass the PEM text of an Ed25519 key, made with `openssl genpkey -algorithm ed25519 -out export-signing.pem` (keep newlines when reading it from an environment variable).',
  signingKeyNotPrivate: () =>
    'ExportModule option "signing.privateKey" is a public key. Pass the private key (`openssl genpkey -algorithm ed25519`); give the public one (`openssl pkey -in key.pem -pubout`) to the people who verify archives.',
  signingKeyNotEd25519: (type: string) =>
    `ExportModule option "signing.privateKey" is not an Ed25519 key (its type is ${type}); archives are signed with Ed25519 only. Make one with \`openssl genpkey -algorithm ed25519 -out export-signing.pem\`.`,
  badSigningKeyId: (value: unknown) =>
    `ExportModule option "signing.keyId" must be 1 to 100 letters, digits, ".", "_", ":" or "-"; got ${describe(value)}.`,

  duplicateCategory: (category: string, first: string, second: string) =>
    `@Exportable category "${category}" is used by both ${first} and ${second}. Give each entity its own category.`,
  exporterBadName: (className: string, category: unknown) =>
    `@Exporter on ${className} has an invalid category ${describe(category)}. Use lowercase letters, digits, "-" and "_" (it becomes a file name).`,
  exporterDuplicate: (category: string, first: string, second: string) =>
    `Category "${category}" is used by both ${first} and ${second}. Give the @Exporter its own category name.`,
  exporterNoRows: (className: string) =>
    `@Exporter ${className} has no rows(subject, filters) method. Implement CategoryExporter: rows() returns an async iterable of the subject's rows.`,
  exporterNotStatic: (className: string) =>
    `@Exporter ${className} is request-scoped (or depends on a request-scoped provider). Exports run outside any request: make it a singleton provider.`,
  exporterBadPersonal: (className: string) =>
    `@Exporter ${className} option "personal" must be true (personal exports read it, and rows() yields only subject.userId's rows) or false.`,
  exporterBadSchema: (className: string) =>
    `@Exporter ${className} option "schema" must be a JSON Schema object (of one row), or be left out to infer it from the rows.`,
  badCategoryName: (entity: string, category: unknown) =>
    `@Exportable on ${entity} has an invalid category ${describe(category)}. Use lowercase letters, digits, "-" and "_" (it becomes a file name).`,
  unknownScopeColumn: (entity: string, scope: string, option: TieOption = 'scope') =>
    `@Exportable on ${entity}: ${option} "${scope}" is not a column of ${entity}. Use a column name, a relation path such as "${TIE_EXAMPLE[option]}", or a function (qb, subject) => qb.`,
  unknownScopeRelation: (entity: string, scope: string, segment: string, on: string, option: TieOption = 'scope') =>
    `@Exportable on ${entity}: ${option} "${scope}" names "${segment}", which is not a relation of ${on}. Use a relation path such as "${TIE_EXAMPLE[option]}" made of relation properties and ending in a column.`,
  badPersonal: (entity: string) =>
    `@Exportable on ${entity}: "personal" must name the column holding the member's user id ("authorId"), a relation path ("ticket.requesterId") or be a function (qb, subject) => qb that keeps subject.userId's rows. Leave it out if the category is not about one member.`,
  missingScope: (entity: string) =>
    `@Exportable on ${entity} has no scope. Every category must say how its rows belong to an account: a column, a relation path or a function.`,
  unknownTimestamp: (entity: string, column: string) =>
    `@Exportable on ${entity}: timestamp "${column}" is not a column of ${entity}. Name a date column or leave it out.`,
  badExportFile: (entity: string, field: string, why: string) => `@ExportFile on ${entity}.${field}: ${why}.`,
  fieldNotColumn: (entity: string, field: string, decorator: string) =>
    `${decorator} on ${entity}.${field}: "${field}" is not a TypeORM column. Put the decorator on a @Column() property, or remove it.`,
  noPrimaryKey: (entity: string) =>
    `@Exportable on ${entity}: the entity has no primary key, so its rows cannot be streamed in a stable order. Add a primary column.`,
  missingDataExportEntity: () =>
    'The DataExport entity is not part of the DataSource. Add ...DATA_EXPORT_ENTITIES to TypeOrmModule.forRoot({ entities }) or set autoLoadEntities: true.',
  categoryFailed: (category: string, reason: string) =>
    `Export failed while reading category "${category}" (${reason}).`,
  databaseStalled: (category: string) =>
    `Export failed while reading category "${category}": the database stopped sending rows.`,
  archiveFailed: (reason: string) => `Export failed while writing the archive (${reason}).`,
  storageFailed: (reason: string) => `Export failed while storing the archive (${reason}).`,
  storageEndedEarly: () => 'Export failed while storing the archive: the storage finished before the archive was written.',
  runStalled: (seconds: number) =>
    `Export failed: it made no progress for ${seconds} s (the database stopped sending rows, or the storage stopped taking them).`,
  workerShutDown: () => 'Export stopped: the worker shut down while it ran.',
  s3BadOption: (name: string, expected: string) => `S3ExportStorage option "${name}" must be ${expected}.`,
  s3BadKey: (key: string) =>
    `S3ExportStorage refused the key ${describe(key)}: keys are letters, digits, '.', '_' and '-' in '/'-separated parts. A custom ExportStorage wrapper must pass the library's keys unchanged.`,
};

/** Which option of `@Exportable` ties rows to something: the account (`scope`) or a member (`personal`). */
type TieOption = 'scope' | 'personal';
const TIE_EXAMPLE: Record<TieOption, string> = { scope: 'ticket.teamId', personal: 'ticket.requesterId' };

function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return String(value);
}
