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

/**
 * Whether the database aborted a statement to break a deadlock (PostgreSQL 40P01, MySQL/MariaDB
 * ER_LOCK_DEADLOCK), or SQLite found the database busy: the statement did nothing and may run
 * again.
 * @internal
 */
export function isDeadlock(err: unknown): boolean {
  const e = (err as { driverError?: unknown })?.driverError ?? err;
  const { code, errno } = (e ?? {}) as { code?: unknown; errno?: unknown };
  return code === '40P01' || code === 'ER_LOCK_DEADLOCK' || errno === 1213 || code === 'SQLITE_BUSY';
}
