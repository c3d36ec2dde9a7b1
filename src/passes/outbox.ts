/**
 * @module passes/outbox
 * The "after something changed" seam. Each pass write (and each template save) leaves an outbox row
 * in the same D1 batch as the change and an id-only task on the pushes queue. The pushes consumer
 * hands each change to the wallets (their `ChangeSubscriber`s, wired in the Worker entry: `passes`
 * imports no wallet code), and deletes the row only when every wallet has recorded its own work (a
 * push job and its own queue message). A wallet that fails makes the message retry with a growing
 * delay; the cron sweep re-sends tasks the queue never took, so a change is never silently dropped.
 */
import { shardField } from "../db/shards";
import { getDb } from "../db/client";
import { claimStaleOutbox, deleteOutbox, findOutbox, type OutboxRecord } from "../db/queries/outbox";
import { crashRetryDelay } from "../lib/backoff";
import { logError } from "../lib/log";
import { MINUTE } from "../lib/time";
import type { PushTask } from "./pass-object";

/** A change the wallets may have to show. `at` is the change's time (the pass's or template's updatedAt). */
export type WalletChange =
  | { kind: "pass"; projectId: string; passId: number; templateId: number; version: number; at: number }
  | { kind: "template"; projectId: string; templateId: number; at: number };

/**
 * A wallet's part in a change: durably record what it must do (or decide there is nothing to do).
 * It may run more than once for one change (at-least-once queues), so it must be idempotent.
 */
export type ChangeSubscriber = (change: WalletChange) => Promise<void>;

function changeOf(row: OutboxRecord): WalletChange {
  if (row.passId !== null) {
    return { kind: "pass", projectId: row.projectId, passId: row.passId, templateId: row.templateId ?? 0, version: row.version, at: row.createdAt };
  }
  return { kind: "template", projectId: row.projectId, templateId: row.templateId ?? 0, at: row.version };
}

/** The pushes queue consumer: hands each change to every wallet; our own failures retry with a growing delay. */
export async function consumePushes(
  batch: MessageBatch<PushTask>,
  env: Pick<Env, "DB">,
  subscribers: readonly ChangeSubscriber[] = [],
  random: () => number = Math.random,
): Promise<void> {
  const db = getDb(env.DB);
  const retry = (msg: Message<PushTask>, e: unknown) => {
    const delaySeconds = crashRetryDelay(msg.attempts, random());
    logError("push consumer error; retrying", e, { outboxId: msg.body?.outboxId, delaySeconds });
    msg.retry({ delaySeconds });
  };
  let rows: OutboxRecord[];
  try {
    rows = await findOutbox(db, batch.messages.map((m) => m.body.outboxId));
  } catch (e) {
    for (const msg of batch.messages) retry(msg, e);
    return;
  }
  const byId = new Map(rows.map((r) => [r.id, r]));
  const handed: Message<PushTask>[] = [];
  await Promise.all(
    batch.messages.map(async (msg) => {
      const row = byId.get(msg.body.outboxId);
      if (!row) return msg.ack(); // taken already: a duplicate message
      try {
        const change = changeOf(row);
        for (const subscriber of subscribers) await subscriber(change);
        handed.push(msg);
      } catch (e) {
        retry(msg, e);
      }
    }),
  );
  try {
    await deleteOutbox(db, handed.map((m) => m.body.outboxId));
    for (const msg of handed) msg.ack();
  } catch (e) {
    for (const msg of handed) retry(msg, e); // the wallets' work is idempotent: handing it on again is safe
  }
}

export const OUTBOX_RESEND_AFTER = 5 * MINUTE;

/** Re-sends push tasks pending for five minutes (the queue never took them, or lost them). */
export async function sweepOutbox(env: Pick<Env, "DB" | "PUSHES_QUEUE">, now = Date.now()): Promise<number> {
  const ids = await claimStaleOutbox(getDb(env.DB), now - OUTBOX_RESEND_AFTER, now, 100);
  if (ids.length) await env.PUSHES_QUEUE.sendBatch(ids.map((outboxId) => ({ body: { outboxId, ...shardField(env) } satisfies PushTask })));
  return ids.length;
}
