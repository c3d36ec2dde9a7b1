/**
 * @module lib/pagination
 * Cursor pages for the logs (newest first by time, then id) and the shared "fetch one more than
 * asked" slice. A cursor is `<ms>.<id>` of the last row shown: opaque to clients, stable under inserts.
 */
import { z } from "zod";
import { AppError } from "./errors";

export interface TimeCursor {
  at: number;
  id: string;
}

export function decodeTimeCursor(cursor: string | undefined, idPrefix: string): TimeCursor | null {
  if (!cursor) return null;
  const m = /^(\d{1,15})\.([0-9a-z]+_[0-9a-z]+)$/.exec(cursor);
  if (!m || !m[2].startsWith(`${idPrefix}_`)) throw new AppError("bad_request", "The cursor is not valid.");
  return { at: Number(m[1]), id: m[2] };
}

/** Rows were fetched with `limit + 1`: the page, and the next cursor when there is more. */
export function pageOf<T>(rows: T[], limit: number, cursorOf: (last: T) => string): { page: T[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  return { page, nextCursor: rows.length > limit && page.length ? cursorOf(page[page.length - 1]) : null };
}

/** `?cursor=&limit=` as every list endpoint takes them (limit 1–100, default 50). */
export const pageQuery = z.object({
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});
