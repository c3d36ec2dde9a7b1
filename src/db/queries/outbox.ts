/** Outbox rows: "a pass changed" tasks for the wallet push queue, deleted once taken. */
import { eq, sql } from "drizzle-orm";
import type { Db } from "../client";
import { outbox } from "../schema";

/** Deletes a task's row. Returns the pass and version it announced, or null for a duplicate message. */
export async function takeOutbox(db: Db, id: number) {
  const rows = await db.delete(outbox).where(eq(outbox.id, id)).returning({ id: outbox.id, passId: outbox.passId, version: outbox.version });
  return rows[0] ?? null;
}

/**
 * Rows not sent (or re-sent) since `before`: the queue never took them, or lost them. Only rows in
 * flight are in the table, so the scan is small; LIMIT bounds it when a consumer outage let it grow.
 */
export async function claimStaleOutbox(db: Db, before: number, now: number, limit: number): Promise<number[]> {
  const rows = await db
    .update(outbox)
    .set({ sends: sql`${outbox.sends} + 1`, sentAt: now })
    .where(sql`${outbox.id} in (select id from outbox where coalesce(sent_at, created_at) < ${before} limit ${limit})`)
    .returning({ id: outbox.id });
  return rows.map((r) => r.id);
}
