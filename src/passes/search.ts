/**
 * @module passes/search
 * Read-only views for people: a template's passes filtered by status, and one pass's latest history
 * (from its Durable Object, passes/history.ts), newest first.
 */
import { getDb } from "../db/client";
import { listPassesFiltered, type PassFilter } from "../db/queries/pass-search";
import { AppError } from "../lib/errors";
import { pageOf } from "../lib/pagination";
import { passHistory, type PassScope } from "./actions";
import { ownedTemplate } from "./templates";
import { passView } from "./view";

export const PASS_FILTERS = ["active", "expired", "voided", "redeemed", "archived"] as const satisfies readonly PassFilter[];
export type { PassFilter };

type ReadScope = Omit<PassScope, "source">;

/** Like `listPasses`, with an optional status filter (`archived` = archived passes, whatever their status). */
export async function searchPasses(scope: ReadScope, templateId: number, q: { filter?: PassFilter; cursor?: string; limit: number }) {
  await ownedTemplate(scope, templateId);
  const after = q.cursor ? Number.parseInt(q.cursor, 10) : 0;
  if (!/^\d{0,15}$/.test(q.cursor ?? "") || !Number.isSafeInteger(after) || after < 0) throw new AppError("bad_request", "The cursor is not valid.");
  const rows = await listPassesFiltered(getDb(scope.env.DB), templateId, q.filter, after, q.limit + 1);
  const { page, nextCursor } = pageOf(rows, q.limit, (p) => String(p.id));
  return { passes: page.map(passView), nextCursor };
}

export const HISTORY_LIMIT = 200;

/** The pass's latest `HISTORY_LIMIT` events, newest first. 404 for another project's pass. */
export async function getPassHistory(scope: ReadScope, passId: number) {
  const { events } = await passHistory(scope, { passId }, undefined, HISTORY_LIMIT);
  return events;
}
