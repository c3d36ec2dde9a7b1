/**
 * @module lib/result
 * Security checks return a tagged reason instead of throwing, so the caller decides what the wire sees
 * (always something coarse) and what the log sees (the reason, never a secret).
 */
export type Result<T, E> = { ok: true; value: T } | { ok: false; error: E };

export const ok = <T>(value: T): Result<T, never> => ({ ok: true, value });
export const err = <E>(error: E): Result<never, E> => ({ ok: false, error });
