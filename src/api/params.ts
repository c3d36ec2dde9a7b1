/** Path and query helpers shared by the admin routes. */
import type { Context } from "hono";
import { z } from "zod";
import { notFound } from "../lib/errors";
import { parseIntId } from "../lib/ids";
import { parseWith } from "../lib/validation";

/** An integer id from the path; anything else names no resource, so 404. */
export function intParam(c: Context, name: string, what: string): number {
  const id = parseIntId(c.req.param(name) ?? "");
  if (id === null) throw notFound(what);
  return id;
}

const pageQuery = z.object({
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});

export function pageParams(c: Context) {
  return parseWith(pageQuery, { cursor: c.req.query("cursor") || undefined, limit: c.req.query("limit") || undefined });
}
