/**
 * @module lib/errors
 * The one error type of passhook. Domain code throws `AppError` with a code from a closed set;
 * `app.onError` is the only place that turns it into the wire shape
 * `{error: {code, message, details}}`. Anything else is an internal error: logged, answered with a
 * generic 500 that leaks nothing.
 */

/** Every error code passhook answers with, and its HTTP status. */
export const ERROR_STATUS = {
  bad_request: 400,
  invalid_json: 400,
  validation_failed: 400,
  unauthorized: 401,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  already_exists: 409,
  illegal_transition: 409,
  idempotency_conflict: 409,
  not_replayable: 409,
  pass_archived: 410,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;
export type ErrorStatus = (typeof ERROR_STATUS)[ErrorCode];

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details: unknown };
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;
  /** Extra response headers (WWW-Authenticate, Retry-After). */
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, message: string, details?: unknown, headers: Record<string, string> = {}) {
    super(message);
    this.name = "AppError";
    this.code = code;
    this.details = details ?? null;
    this.headers = headers;
  }

  get status(): ErrorStatus {
    return ERROR_STATUS[this.code];
  }

  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message, details: this.details } };
  }

  /** A plain object that survives Durable Object RPC (class identity does not). */
  toJSON(): SerializedAppError {
    return { code: this.code, message: this.message, details: this.details };
  }

  static from(e: SerializedAppError): AppError {
    return new AppError(e.code, e.message, e.details);
  }
}

export interface SerializedAppError {
  code: ErrorCode;
  message: string;
  details: unknown;
}

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}

export const unauthorized = (realm: "passhook" | "passhook-operator" = "passhook", scheme = "Basic") =>
  new AppError("unauthorized", "Missing or invalid credentials.", null, {
    "WWW-Authenticate": `${scheme} realm="${realm}"`,
  });

export const notFound = (what = "Resource") => new AppError("not_found", `${what} not found.`);

/** Zod-style issue list as `details`: each with a dotted `path` and a message. */
export interface FieldIssue {
  path: string;
  message: string;
}

export function validationError(issues: FieldIssue[], message = "The request is invalid."): AppError {
  return new AppError("validation_failed", message, { issues });
}
