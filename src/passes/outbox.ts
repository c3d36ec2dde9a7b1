/**
 * @module passes/outbox
 * The "after a pass changed" seam. Each pass write leaves an outbox row (same D1 batch) and an id-only
 * task on the pushes queue. The wallet consumers (Apple APNs pushes, Google object patches) hang off
 * that queue; until a wallet is configured for a pass, taking the task is all there is to do.
 * The cron sweep re-sends tasks the queue never took, so a change is never silently dropped.
 */
import { getDb } from "../db/client";
import { claimStaleOutbox, takeOutbox } from "../db/queries/outbox";
import { crashRetryDelay } from "../lib/backoff";
import { logError } from "../lib/log";
import { MINUTE } from "../lib/time";
import type { PushTask } from "./pass-object";

/** Takes a push task (its row is deleted). Returns the pass and version it announced, or null for a duplicate. */
export async function completeOutboxTask(env: Pick<Env, "DB">, task: PushTask) {
  return takeOutbox(getDb(env.DB), task.outboxId);
}

/** The pushes queue consumer: takes each task; our own failures retry with a growing delay. */
export async function consumePushes(batch: MessageBatch<PushTask>, env: Pick<Env, "DB">, random: () => number = Math.random): Promise<void> {
  for (const msg of batch.messages) {
    try {
      await completeOutboxTask(env, msg.body);
      msg.ack();
    } catch (e) {
      const delaySeconds = crashRetryDelay(msg.attempts, random());
      logError("push consumer error; retrying", e, { outboxId: msg.body?.outboxId, delaySeconds });
      msg.retry({ delaySeconds });
    }
  }
}

export const OUTBOX_RESEND_AFTER = 5 * MINUTE;

/** Re-sends push tasks pending for five minutes (the queue never took them, or lost them). */
export async function sweepOutbox(env: Pick<Env, "DB" | "PUSHES_QUEUE">, now = Date.now()): Promise<number> {
  const ids = await claimStaleOutbox(getDb(env.DB), now - OUTBOX_RESEND_AFTER, now, 100);
  if (ids.length) await env.PUSHES_QUEUE.sendBatch(ids.map((outboxId) => ({ body: { outboxId } satisfies PushTask })));
  return ids.length;
}
