/**
 * @module lib/log
 * Error descriptions that are safe to log. Workers persist whatever is logged, and some errors quote
 * request data: drizzle's query errors carry every bound parameter (a listener body, an email, a
 * ciphertext) in their message, and stack frames or causes can quote more. So a logged error is its
 * name and message only, and for a failed query the SQL text (parameters are `?` placeholders) and the
 * database's own message, never the parameters.
 */

const MAX = 500;

interface QueryError extends Error {
  query: string;
  params: unknown[];
}

function isQueryError(e: unknown): e is QueryError {
  return e instanceof Error && typeof (e as Partial<QueryError>).query === "string" && Array.isArray((e as Partial<QueryError>).params);
}

/** One line describing `e` with no request data in it. */
export function describeError(e: unknown): string {
  if (isQueryError(e)) {
    const cause = e.cause instanceof Error ? `${e.cause.name}: ${e.cause.message}` : "no cause";
    return clip(`query failed (${cause}) in: ${e.query}`);
  }
  if (e instanceof Error) return clip(`${e.name}: ${e.message}`);
  return "non-error thrown";
}

/** The database's own message for `e`, unwrapped from drizzle's query error when there is one. */
export function databaseMessage(e: unknown): string {
  if (isQueryError(e) && e.cause instanceof Error) return e.cause.message;
  return e instanceof Error ? e.message : "";
}

/** Whether `e` is a UNIQUE constraint failure (raised directly by a D1 batch, or wrapped by drizzle). */
export function isUniqueViolation(e: unknown): boolean {
  return databaseMessage(e).includes("UNIQUE constraint failed");
}

/** A D1 error raised by a constraint (foreign key, unique, check): the data, not the database. */
export function isConstraintError(e: unknown): boolean {
  return e instanceof Error && /constraint/i.test(`${e.message} ${e.cause instanceof Error ? e.cause.message : ""}`);
}

export function logError(msg: string, e: unknown, extra: Record<string, unknown> = {}): void {
  console.error(JSON.stringify({ msg, ...extra, error: describeError(e) }));
}

function clip(s: string): string {
  return s.length > MAX ? `${s.slice(0, MAX)}…` : s;
}
