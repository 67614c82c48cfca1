/**
 * What GDPR Article 15 gives a person besides the data itself, for one category (or, as the
 * module's `about` option, for every category that does not say otherwise). README.txt and the
 * manifest carry it, so that an access request is answered in full.
 * @publicApi
 */
export interface ExportAbout {
  /** Why the data is processed ("To provide the help desk: tickets and replies"). */
  readonly purpose?: string;
  /** Who receives it besides you: processors, other recipients ("Postmark (email delivery)"). */
  readonly recipients?: readonly string[];
  /** How long it is kept ("Until the account is deleted, then 30 days in backups"). */
  readonly retention?: string;
  /** Where it comes from, when not from the person ("Your payment provider"). */
  readonly source?: string;
}

/** What an export leaves out, as the archive lists it under "What is not included". @publicApi */
export interface ExportNotIncluded {
  /** Entities left out on purpose, with the reason. */
  readonly excluded: readonly { readonly name: string; readonly reason: string }[];
  /** Entities of the database that no category covers and none excludes. */
  readonly notCovered: readonly string[];
  /** Categories the request did not ask for (an export of some categories only). */
  readonly notRequested: readonly string[];
  /**
   * In a personal export: the account's categories that are not about one member (not marked
   * `personal`), which only an owner's or admin's account export holds.
   */
  readonly accountOnly?: readonly string[];
  /** Fields left out of a category: by `@Redact()`/`redact`, or because their name means a credential. */
  readonly redactedFields: readonly { readonly category: string; readonly field: string; readonly reason: 'redact' | 'sensitive-name' }[];
  /** The host's notes (the `coverage.notes` option and each exporter's `note`). */
  readonly notes: readonly string[];
}
