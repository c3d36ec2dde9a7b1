/** Outbox rows: "something wallets show changed" tasks for the pushes queue, deleted once handed on. */
import { inArray, sql } from "drizzle-orm";
import type { Db } from "../client";
import { chunks, IDS_PER_STATEMENT } from "./deliveries";
import { outbox } from "../schema";

export type OutboxRecord = typeof outbox.$inferSelect;

/** The rows of a batch of tasks (missing ones were taken already: duplicate messages). */
export async function findOutbox(db: Db, ids: number[]): Promise<OutboxRecord[]> {
  if (!ids.length) return [];
  const parts = await Promise.all(chunks(ids, IDS_PER_STATEMENT).map((part) => db.select().from(outbox).where(inArray(outbox.id, part))));
  return parts.flat();
}

/** Deletes handed-on rows, chunked to D1's parameter limit, in one batch. */
export async function deleteOutbox(db: Db, ids: number[]): Promise<void> {
  if (!ids.length) return;
  const [first, ...rest] = chunks(ids, IDS_PER_STATEMENT).map((part) => db.delete(outbox).where(inArray(outbox.id, part)));
  await db.batch([first, ...rest]);
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

/** A template change's task, to write in the same batch as the template. */
export function templateChangeTask(db: Db, t: { projectId: string; templateId: number; updatedAt: number }) {
  return db.insert(outbox).values({ projectId: t.projectId, templateId: t.templateId, version: t.updatedAt, createdAt: t.updatedAt }).returning({ id: outbox.id });
}
