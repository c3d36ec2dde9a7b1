/**
 * Delivery rows as the pass's Durable Object sequences them: at most one `pending` delivery per
 * pass; the rest wait in creation order (rowid) until it settles.
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "../client";
import { callbackSettings, deliveries, type DeliveryEvent } from "../schema";

export interface HolderEventWrite {
  passId: number;
  event: DeliveryEvent;
  delivery: { id: string; projectId: string; payload: Record<string, unknown>; isTest: boolean };
  now: number;
}

/**
 * The delivery row of a holder event, and the claim of the pass's next delivery, in one batch. The
 * row is written only when the project has a callback server (a disabled one, after a 410, still
 * counts: its deliveries fail at once and `recover` sends them after re-registration), or always for
 * a test send. Returns whether the row was written and the delivery claimed for the queue, if any.
 */
export async function writeHolderEvent(db: Db, w: HolderEventWrite): Promise<{ written: boolean; claimed: { id: string; attemptCount: number } | null }> {
  const insert = db.insert(deliveries).values({
    id: w.delivery.id,
    projectId: w.delivery.projectId,
    passId: w.passId,
    event: w.event,
    payload: w.delivery.payload,
    status: "waiting",
    isTest: w.delivery.isTest,
    attemptCount: 0,
    tries: 0,
    createdAt: w.now,
    updatedAt: w.now,
  });
  // Without a registration the row goes again in the same transaction (a test send keeps it).
  const unregistered = db
    .delete(deliveries)
    .where(
      and(
        eq(deliveries.id, w.delivery.id),
        sql`${w.delivery.isTest ? 0 : 1} = 1`,
        sql`not exists (select 1 from ${callbackSettings} where ${callbackSettings.projectId} = ${w.delivery.projectId})`,
      ),
    )
    .returning({ id: deliveries.id });
  const [, dropped, claimed] = await db.batch([insert, unregistered, claimStatement(db, w.passId, w.now)]);
  return { written: dropped.length === 0, claimed: claimed[0] ?? null };
}

/** Claims the next delivery of a pass for the queue, unless one is already in flight. */
export async function claimNextDelivery(db: Db, passId: number, now: number): Promise<{ id: string; attemptCount: number } | null> {
  const rows = await claimStatement(db, passId, now);
  return rows[0] ?? null;
}

function claimStatement(db: Db, passId: number, now: number) {
  // One statement, so "is one in flight?" and "claim the oldest waiting" cannot interleave.
  return db
    .update(deliveries)
    .set({ status: "pending", nextAttemptAt: now, updatedAt: now })
    .where(
      and(
        eq(deliveries.passId, passId),
        eq(deliveries.status, "waiting"),
        sql`${deliveries.id} = (select id from deliveries where pass_id = ${passId} and status = 'waiting' order by rowid limit 1)`,
        sql`not exists (select 1 from deliveries where pass_id = ${passId} and status = 'pending')`,
      ),
    )
    .returning({ id: deliveries.id, attemptCount: deliveries.attemptCount });
}

/** D1 binds at most 100 parameters per statement; an `IN (...)` list binds one per id. */
export const IDS_PER_STATEMENT = 90;

/** Puts settled deliveries back in line (resend / recover); the retry schedule starts again. Chunked, one batch. */
export async function requeueDeliveries(db: Db, ids: string[], now: number): Promise<number> {
  if (ids.length === 0) return 0;
  const stmts = chunks(ids, IDS_PER_STATEMENT).map((part) =>
    db
      .update(deliveries)
      .set({ status: "waiting", tries: 0, nextAttemptAt: null, completedAt: null, updatedAt: now })
      .where(and(inArray(deliveries.id, part), inArray(deliveries.status, ["succeeded", "failed"])))
      .returning({ id: deliveries.id }),
  );
  const [first, ...rest] = stmts;
  const results = await db.batch([first, ...rest]);
  return results.reduce((n, rows) => n + rows.length, 0);
}

export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
