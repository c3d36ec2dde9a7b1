/**
 * @module passes/history
 * Read-only views for people: a template's passes filtered by status, and one pass's history (its
 * append-only `pass_events`: every write version and every holder event), newest first.
 */
import { getDb } from "../db/client";
import { listRecentPassEvents, listPassesFiltered, type PassFilter } from "../db/queries/pass-search";
import { AppError } from "../lib/errors";
import { pageOf } from "../lib/pagination";
import { iso } from "../lib/time";
import { getPass, type PassScope } from "./actions";
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
  await getPass(scope, { passId });
  const rows = await listRecentPassEvents(getDb(scope.env.DB), passId, HISTORY_LIMIT);
  return rows.map((e) => ({
    version: e.version,
    kind: e.kind,
    action: e.action,
    source: e.source,
    changes: e.changes,
    at: iso(e.at),
  }));
}
