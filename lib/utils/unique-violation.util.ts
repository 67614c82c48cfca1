/**
 * Whether a driver error is a unique-constraint violation (PostgreSQL 23505, MySQL/MariaDB
 * ER_DUP_ENTRY, SQLite SQLITE_CONSTRAINT_UNIQUE).
 * @internal
 */
export function isUniqueViolation(err: unknown): boolean {
  const e = (err as { driverError?: unknown })?.driverError ?? err;
  const { code, errno } = (e ?? {}) as { code?: unknown; errno?: unknown };
  return (
    code === '23505' ||
    code === 'ER_DUP_ENTRY' ||
    errno === 1062 ||
    code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
  );
}
