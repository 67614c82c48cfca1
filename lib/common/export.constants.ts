/**
 * Name of the Bull queue that carries export jobs.
 * @publicApi
 */
export const EXPORT_QUEUE = 'data-export';

/**
 * Name of the job that builds one export's archive.
 * @publicApi
 */
export const EXPORT_JOB = 'build-archive';

/**
 * Name of the repeatable job that expires exports and deletes their files.
 * @publicApi
 */
export const EXPORT_SWEEP_JOB = 'sweep';

/** Metadata key written by `@Exportable()`. */
export const EXPORTABLE_METADATA = 'data-export:exportable';
/** @internal */
export const EXPORTER_METADATA = 'data-export:exporter';
/** @internal */
export const EXPORT_EXCLUDED_METADATA = 'data-export:excluded';
/** Class-level list of the property keys that carry field metadata. */
export const EXPORT_FIELDS_METADATA = 'data-export:fields';
/** Per-property field metadata written by `@Redact()` and `@ExportField()`. */
export const EXPORT_FIELD_METADATA = 'data-export:field';

/** Version of the archive format written in `manifest.json`. */
export const EXPORT_FORMAT_VERSION = '1';
