/**
 * @module callbacks/sweep
 * The cron safety net for deliveries: a pending delivery whose attempt was due 15 minutes ago has lost
 * its queue task (send failed, message lost), so it is sent again; a pass with waiting deliveries and
 * none in flight missed its pump (a crash between settle and send), so its sequencer is poked.
 * Settled deliveries older than the retention period are dropped with their attempts.
 */
import { shardField } from "../db/shards";
import { getDb } from "../db/client";
import { claimOverduePending, purgeSettledDeliveries, stalledPasses } from "../db/queries/callbacks";
import { DAY, MINUTE } from "../lib/time";
import { deliverySettled, type DeliveryTask } from "../passes";
import type { ConsumerEnv } from "./consumer";

export const OVERDUE_AFTER = 15 * MINUTE;
export const STALLED_AFTER = 5 * MINUTE;
/** Settled deliveries (and their attempts) are kept this long: the window for resend and recover. */
export const DELIVERY_RETENTION = 30 * DAY;

export async function sweepDeliveries(env: ConsumerEnv, now = Date.now()) {
  const db = getDb(env.DB);
  const overdue = await claimOverduePending(db, now - OVERDUE_AFTER, now, 100);
  if (overdue.length) {
    await env.CALLBACKS_QUEUE.sendBatch(overdue.map((d) => ({ body: { deliveryId: d.id, attempt: d.attemptCount + 1, ...shardField(env) } satisfies DeliveryTask })));
  }
  const stalled = await stalledPasses(db, now - STALLED_AFTER, 50);
  for (const p of stalled) await deliverySettled(env, { templateId: p.templateId, externalId: p.externalId }, p.passId);
  await purgeSettledDeliveries(db, now - DELIVERY_RETENTION);
  return { resent: overdue.length, pumped: stalled.length };
}
