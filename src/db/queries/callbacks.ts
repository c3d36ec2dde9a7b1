/** Callback registrations, delivery reads for the log API and the consumer, and attempt records. */
import { and, desc, eq, gte, inArray, lt, or, sql } from "drizzle-orm";
import type { Db } from "../client";
import {
  callbackSettings,
  deliveries,
  deliveryAttempts,
  passes,
  type CallbackSettingsRecord,
  type DeliveryRecord,
  type DeliveryStatus,
} from "../schema";
import { deleteInChunks, type PurgeResult } from "./retention";
import { chunks, IDS_PER_STATEMENT } from "./deliveries";

export async function findCallbackSettings(db: Db, projectId: string): Promise<CallbackSettingsRecord | null> {
  const rows = await db.select().from(callbackSettings).where(eq(callbackSettings.projectId, projectId)).limit(1);
  return rows[0] ?? null;
}

export async function upsertCallbackSettings(db: Db, row: CallbackSettingsRecord): Promise<void> {
  await db
    .insert(callbackSettings)
    .values(row)
    .onConflictDoUpdate({
      target: callbackSettings.projectId,
      set: { baseUrl: row.baseUrl, headersEnc: row.headersEnc, disabledAt: null, disabledReason: null, updatedAt: row.updatedAt },
    });
}

export async function updateCallbackSettings(db: Db, projectId: string, patch: Partial<CallbackSettingsRecord>): Promise<void> {
  await db.update(callbackSettings).set(patch).where(eq(callbackSettings.projectId, projectId));
}

export async function deleteCallbackSettings(db: Db, projectId: string): Promise<boolean> {
  const rows = await db.delete(callbackSettings).where(eq(callbackSettings.projectId, projectId)).returning({ p: callbackSettings.projectId });
  return rows.length === 1;
}

export interface DeliveryWithPass {
  delivery: DeliveryRecord;
  templateId: number;
  externalId: string;
}

/** Deliveries with what is needed to reach their pass's Durable Object, for a consumer's whole batch. */
export async function findDeliveriesWithPass(db: Db, ids: string[]): Promise<Map<string, DeliveryWithPass>> {
  const out = new Map<string, DeliveryWithPass>();
  for (const part of chunks([...new Set(ids)], IDS_PER_STATEMENT)) {
    const rows = await db
      .select({ delivery: deliveries, templateId: passes.templateId, externalId: passes.externalId })
      .from(deliveries)
      .innerJoin(passes, eq(passes.id, deliveries.passId))
      .where(inArray(deliveries.id, part));
    for (const r of rows) out.set(r.delivery.id, r);
  }
  return out;
}

/** A delivery with what is needed to reach its pass's Durable Object. */
export async function findDeliveryWithPass(db: Db, id: string): Promise<DeliveryWithPass | null> {
  const rows = await db
    .select({ delivery: deliveries, templateId: passes.templateId, externalId: passes.externalId })
    .from(deliveries)
    .innerJoin(passes, eq(passes.id, deliveries.passId))
    .where(eq(deliveries.id, id))
    .limit(1);
  return rows[0] ?? null;
}

export async function listDeliveries(
  db: Db,
  projectId: string,
  status: DeliveryStatus | undefined,
  before: { at: number; id: string } | null,
  limit: number,
): Promise<DeliveryRecord[]> {
  const page = before ? or(lt(deliveries.createdAt, before.at), and(eq(deliveries.createdAt, before.at), lt(deliveries.id, before.id))) : undefined;
  return db
    .select()
    .from(deliveries)
    .where(and(eq(deliveries.projectId, projectId), status ? eq(deliveries.status, status) : undefined, page))
    .orderBy(desc(deliveries.createdAt), desc(deliveries.id))
    .limit(limit);
}

export async function listAttempts(db: Db, deliveryId: string) {
  return db.select().from(deliveryAttempts).where(eq(deliveryAttempts.deliveryId, deliveryId)).orderBy(deliveryAttempts.attempt);
}

/** Failed deliveries of a project created since `since`, with their pass's address. */
export async function failedDeliveriesSince(db: Db, projectId: string, since: number, limit: number) {
  return db
    .select({ id: deliveries.id, passId: deliveries.passId, templateId: passes.templateId, externalId: passes.externalId })
    .from(deliveries)
    .innerJoin(passes, eq(passes.id, deliveries.passId))
    .where(and(eq(deliveries.projectId, projectId), eq(deliveries.status, "failed"), gte(deliveries.createdAt, since)))
    .orderBy(deliveries.createdAt)
    .limit(limit);
}

export interface AttemptRecord {
  id: string;
  attempt: number;
  at: number;
  statusCode: number | null;
  durationMs: number;
  responseSnippet: string | null;
  error: string | null;
}

/**
 * Records an attempt and moves the delivery to its next state in one batch, only if no other consumer
 * recorded this attempt first (then the attempt insert is ignored and the guarded update changes
 * nothing). `waiting` says whether the pass has deliveries waiting behind this one, read in the same
 * batch after the update: only then must its Durable Object be told that this one settled.
 */
export async function recordAttempt(
  db: Db,
  deliveryId: string,
  attempt: AttemptRecord,
  next: { status: DeliveryStatus; tries: number; nextAttemptAt: number | null; completedAt: number | null },
): Promise<{ recorded: boolean; waiting: boolean }> {
  const [, updated, waiting] = await db.batch([
    db
      .insert(deliveryAttempts)
      .values({ ...attempt, deliveryId })
      .onConflictDoNothing(),
    db
      .update(deliveries)
      .set({
        status: next.status,
        attemptCount: attempt.attempt,
        tries: next.tries,
        nextAttemptAt: next.nextAttemptAt,
        lastStatusCode: attempt.statusCode,
        lastError: attempt.error,
        updatedAt: attempt.at,
        completedAt: next.completedAt,
      })
      .where(and(eq(deliveries.id, deliveryId), eq(deliveries.attemptCount, attempt.attempt - 1), eq(deliveries.status, "pending")))
      .returning({ id: deliveries.id }),
    waitingBehind(db, deliveryId),
  ]);
  return { recorded: updated.length === 1, waiting: waiting.length > 0 };
}

/** One row when the delivery's pass has a delivery waiting in line. */
function waitingBehind(db: Db, deliveryId: string) {
  return db
    .select({ one: sql<number>`1` })
    .from(deliveries)
    .where(and(eq(deliveries.status, "waiting"), sql`${deliveries.passId} = (select pass_id from deliveries where id = ${deliveryId})`))
    .limit(1);
}

/** Fails a pending delivery without an attempt (no registration, registration disabled); `waiting` as for recordAttempt. */
export async function failPendingDelivery(db: Db, deliveryId: string, reason: string, now: number): Promise<{ failed: boolean; waiting: boolean }> {
  const [rows, waiting] = await db.batch([
    db
      .update(deliveries)
      .set({ status: "failed", lastError: reason, nextAttemptAt: null, completedAt: now, updatedAt: now })
      .where(and(eq(deliveries.id, deliveryId), eq(deliveries.status, "pending")))
      .returning({ id: deliveries.id }),
    waitingBehind(db, deliveryId),
  ]);
  return { failed: rows.length === 1, waiting: waiting.length > 0 };
}

/**
 * Leaves a pending delivery pending with a note and an overdue due time, so the cron sweep sends it
 * again; used when the queue gave up on a task because of our own repeated failures.
 */
export async function notePendingDelivery(db: Db, deliveryId: string, note: string, now: number): Promise<void> {
  await db
    .update(deliveries)
    .set({ lastError: note, nextAttemptAt: 0, updatedAt: now })
    .where(and(eq(deliveries.id, deliveryId), eq(deliveries.status, "pending")));
}

export async function markDeadLettered(db: Db, deliveryId: string, now: number): Promise<void> {
  await db.update(deliveries).set({ deadLetteredAt: now }).where(eq(deliveries.id, deliveryId));
}

/** Pending deliveries whose attempt was due long ago: their queue task was lost. Bumps their due time. */
export async function claimOverduePending(db: Db, dueBefore: number, now: number, limit: number) {
  return db
    .update(deliveries)
    .set({ nextAttemptAt: now, updatedAt: now })
    .where(
      sql`${deliveries.id} in (select id from deliveries where status = 'pending' and next_attempt_at < ${dueBefore} order by next_attempt_at limit ${limit})`,
    )
    .returning({ id: deliveries.id, attemptCount: deliveries.attemptCount });
}

/** Passes with waiting deliveries and none in flight, older than `before`: their sequencer was not pumped. */
export async function stalledPasses(db: Db, before: number, limit: number) {
  return db
    .selectDistinct({ passId: deliveries.passId, templateId: passes.templateId, externalId: passes.externalId })
    .from(deliveries)
    .innerJoin(passes, eq(passes.id, deliveries.passId))
    .where(
      and(
        eq(deliveries.status, "waiting"),
        lt(deliveries.createdAt, before),
        sql`not exists (select 1 from deliveries d2 where d2.pass_id = ${deliveries.passId} and d2.status = 'pending')`,
      ),
    )
    .limit(limit);
}


/** Drops succeeded and failed deliveries completed before `before`, in bounded chunks; their attempts go with them. */
export async function purgeSettledDeliveries(db: Db, before: number, opts?: { chunk?: number; maxChunks?: number }): Promise<PurgeResult> {
  return deleteInChunks(db, deliveries, and(lt(deliveries.completedAt, before), inArray(deliveries.status, ["succeeded", "failed"]))!, opts);
}
