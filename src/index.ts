/**
 * Worker entry (the composition root): HTTP, queue consumers by queue name, the cron sweep, and the
 * Durable Object class. Nothing imports this file.
 */
import { buildApp } from "./app";
import { appleApiRoutes, appleRoutes, appleSubscriber, consumeAppleDeadLetters, consumeApplePushes } from "./apple";
import { consumeCallbacks, consumeDeadLetters, sweepDeliveries } from "./callbacks";
import { listenerRoutes, purgeOldEvents } from "./listener";
import { consumePushes, sweepOutbox, sweepWalletJobs, type DeliveryTask, type PushTask, type WalletTask } from "./passes";
import { purgeExpiredIdempotencyKeys } from "./projects";
import { logError } from "./lib/log";

export { PassObject } from "./passes";

const app = buildApp({ root: [listenerRoutes, appleRoutes], api: [appleApiRoutes] });

/** Until the Google Wallet branch adds GOOGLE_QUEUE: no Google job exists to re-send. (Merge: use env.GOOGLE_QUEUE.) */
const noGoogleQueue = {
  send: async () => {
    throw new Error("GOOGLE_QUEUE is not configured");
  },
  sendBatch: async () => {
    throw new Error("GOOGLE_QUEUE is not configured");
  },
} as unknown as Queue;

export default {
  fetch: app.fetch,

  async queue(batch, env) {
    switch (batch.queue) {
      case "passhook-callbacks":
        return consumeCallbacks(batch as MessageBatch<DeliveryTask>, env);
      case "passhook-callbacks-dlq":
        return consumeDeadLetters(batch as MessageBatch<DeliveryTask>, env);
      case "passhook-pushes":
        return consumePushes(batch as MessageBatch<PushTask>, env, [appleSubscriber(env)]);
      case "passhook-pushes-dlq":
        for (const msg of batch.messages) {
          console.error(JSON.stringify({ msg: "push task dead-lettered; the sweep re-sends it", task: msg.body }));
          msg.ack();
        }
        return;
      case "passhook-apple":
        return consumeApplePushes(batch as MessageBatch<WalletTask>, env);
      case "passhook-apple-dlq":
        return consumeAppleDeadLetters(batch as MessageBatch<WalletTask>, env);
      default:
        console.error(JSON.stringify({ msg: "message from an unknown queue", queue: batch.queue }));
        batch.retryAll();
    }
  },

  async scheduled(_controller, env, ctx) {
    // Each job on its own: one failing (D1 down) neither stops the others nor logs request data.
    const jobs: [string, () => Promise<unknown>][] = [
      ["outbox sweep", () => sweepOutbox(env)],
      ["wallet job sweep", () => sweepWalletJobs(env, { apple: env.APPLE_QUEUE, google: noGoogleQueue })],
      ["delivery sweep", () => sweepDeliveries(env)],
      ["idempotency retention", () => purgeExpiredIdempotencyKeys(env)],
      ["event log retention", () => purgeOldEvents(env)],
    ];
    ctx.waitUntil(Promise.all(jobs.map(([name, job]) => job().catch((e) => logError("cron job failed", e, { job: name })))));
  },
} satisfies ExportedHandler<Env>;
