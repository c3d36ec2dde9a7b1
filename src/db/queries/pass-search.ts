/** Pass lists with filters (the dashboard's passes view): by status or archived, in id order. */
import { and, asc, eq, gt, isNotNull, isNull } from "drizzle-orm";
import type { Db } from "../client";
import { passes, type PassStatus } from "../schema";

export type PassFilter = PassStatus | "archived";

/** Passes of a template after `afterId`; a status filter shows live (not archived) passes of that status. */
export async function listPassesFiltered(db: Db, templateId: number, filter: PassFilter | undefined, afterId: number, limit: number) {
  const which =
    filter === undefined ? undefined : filter === "archived" ? isNotNull(passes.archivedAt) : and(eq(passes.status, filter), isNull(passes.archivedAt));
  return db
    .select()
    .from(passes)
    .where(and(eq(passes.templateId, templateId), gt(passes.id, afterId), which))
    .orderBy(asc(passes.id))
    .limit(limit);
}
