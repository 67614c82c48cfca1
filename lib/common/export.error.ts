/**
 * Base class of the library's developer-facing errors (configuration and boot mistakes).
 * @publicApi
 */
export class ExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Thrown at boot when `ExportModule` options are invalid. @publicApi */
export class InvalidExportOptionsError extends ExportError {}

/** Thrown at boot when an `@Exportable` entity is misconfigured. @publicApi */
export class ExportRegistryError extends ExportError {}

/**
 * Thrown by the processor when an export cannot be built. Its message never holds row data or
 * secrets: it is stored on the export and shown to users.
 * @publicApi
 */
export class ExportProcessingError extends ExportError {}
