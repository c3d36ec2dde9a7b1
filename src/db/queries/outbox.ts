/** Outbox rows: "a pass changed" tasks for the wallet push queue. */
import { and, eq, lt, sql } from "drizzle-orm";
import type { Db } from "../client";
import { outbox } from "../schema";
import { deleteInChunks, type PurgeResult } from "./retention";

export async function markOutboxDone(db: Db, id: string, now: number) {
  const rows = await db
    .update(outbox)
    .set({ state: "done", doneAt: now })
    .where(and(eq(outbox.id, id), eq(outbox.state, "pending")))
    .returning({ id: outbox.id, passId: outbox.passId, version: outbox.version });
  return rows[0] ?? null;
}

/** Pending rows not sent (or re-sent) since `before`: the queue never took them, or lost them. */
export async function claimStaleOutbox(db: Db, before: number, now: number, limit: number): Promise<string[]> {
  const rows = await db
    .update(outbox)
    .set({ sends: sql`${outbox.sends} + 1`, sentAt: now })
    .where(
      sql`${outbox.id} in (select id from outbox where state = 'pending' and coalesce(sent_at, created_at) < ${before} order by created_at limit ${limit})`,
    )
    .returning({ id: outbox.id });
  return rows.map((r) => r.id);
}

/** Drops done rows older than `before`, in bounded chunks (the (state, sent_at) index finds them oldest first). */
export async function purgeDoneOutbox(db: Db, before: number, opts?: { chunk?: number; maxChunks?: number }): Promise<PurgeResult> {
  return deleteInChunks(db, outbox, and(eq(outbox.state, "done"), lt(outbox.doneAt, before))!, opts);
}

