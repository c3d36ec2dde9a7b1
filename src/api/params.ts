/** Path and query helpers shared by the admin routes. */
import type { Context } from "hono";
import { notFound } from "../lib/errors";
import { parseIntId } from "../lib/ids";
import { pageQuery } from "../lib/pagination";
import { parseWith } from "../lib/validation";

/** An integer id from the path; anything else names no resource, so 404. */
export function intParam(c: Context, name: string, what: string): number {
  const id = parseIntId(c.req.param(name) ?? "");
  if (id === null) throw notFound(what);
  return id;
}

export function pageParams(c: Context) {
  return parseWith(pageQuery, { cursor: c.req.query("cursor") || undefined, limit: c.req.query("limit") || undefined });
}
