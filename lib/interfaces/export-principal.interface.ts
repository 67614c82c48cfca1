/**
 * Who asks: resolved from the HTTP request (default `req.user`) or passed to `ExportService`.
 * @publicApi
 */
export interface ExportPrincipal {
  userId: string;
  accountId: string;
  role: string;
  email?: string;
}

/**
 * What a scope function receives: the account being exported and who asked for it.
 * @publicApi
 */
export interface ExportSubject {
  accountId: string;
  userId: string;
}
