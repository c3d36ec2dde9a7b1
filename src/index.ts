/**
 * Worker entry (the composition root): HTTP, queue consumers by queue name, the cron sweep, and the
 * Durable Object class. Nothing imports this file.
 */
import { buildApp } from "./app";
import { consumeCallbacks, consumeDeadLetters, sweepDeliveries } from "./callbacks";
import { listenerRoutes, purgeOldEvents } from "./listener";
import { consumePushes, sweepOutbox, type DeliveryTask, type PushTask } from "./passes";
import { purgeExpiredIdempotencyKeys } from "./projects";

export { PassObject } from "./passes";

const app = buildApp({ root: [listenerRoutes] });

export default {
  fetch: app.fetch,

  async queue(batch, env) {
    switch (batch.queue) {
      case "passhook-callbacks":
        return consumeCallbacks(batch as MessageBatch<DeliveryTask>, env);
      case "passhook-callbacks-dlq":
        return consumeDeadLetters(batch as MessageBatch<DeliveryTask>, env);
      case "passhook-pushes":
        return consumePushes(batch as MessageBatch<PushTask>, env);
      case "passhook-pushes-dlq":
        for (const msg of batch.messages) {
          console.error(JSON.stringify({ msg: "push task dead-lettered; the sweep re-sends it", task: msg.body }));
          msg.ack();
        }
        return;
      default:
        console.error(JSON.stringify({ msg: "message from an unknown queue", queue: batch.queue }));
        batch.retryAll();
    }
  },

  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(Promise.all([sweepOutbox(env), sweepDeliveries(env), purgeExpiredIdempotencyKeys(env), purgeOldEvents(env)]));
  },
} satisfies ExportedHandler<Env>;
