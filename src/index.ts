/**
 * Worker entry (the composition root): HTTP, queue consumers by queue name, the cron sweep, and the
 * Durable Object class. Nothing imports this file. It is also where the wallets meet the passes: each
 * wallet's ChangeSubscriber is handed to the pushes consumer here, so `passes` imports no wallet code.
 *
 * D1 shards (db/shards.ts): a request starts from `rootEnv` and its route picks the shard; a queue
 * batch is split by the shard its messages name and each part consumed in that shard's env, one after
 * another (each consumer keeps to the invocation's outbound connections); the cron runs in every shard.
 */
import { buildApp } from "./app";
import { appleApiRoutes, appleRoutes, appleSubscriber, consumeAppleDeadLetters, consumeApplePushes } from "./apple";
import { consumeCallbacks, consumeDeadLetters, sweepDeliveries } from "./callbacks";
import { consumeGoogleDeadLetters, consumeGoogleSync, googleApiRoutes, googleRootRoutes, googleSubscriber, purgeGoogleNonces, reconcileGoogleSaves } from "./google";
import { listenerRoutes, moveLegacyDetails, purgeOldEvents } from "./listener";
import { consumePushes, sweepOutbox, sweepWalletJobs, type DeliveryTask, type PushTask, type WalletTask } from "./passes";
import { purgeExpiredIdempotencyKeys } from "./projects";
import { logError } from "./lib/log";
import { batchesByShard, rootEnv, shardNames, shardOf, withShard } from "./db/shards";

export { PassObject } from "./passes";

const app = buildApp({ root: [listenerRoutes, appleRoutes, googleRootRoutes], api: [appleApiRoutes, googleApiRoutes] });

export default {
  fetch: (req, env, ctx) => app.fetch(req, rootEnv(env), ctx),

  async queue(batch, env) {
    for (const part of batchesByShard(env, batch)) await consume(part.batch, withShard(env, part.shard));
  },

  async scheduled(controller, env, ctx) {
    ctx.waitUntil(everyShardInTurn(env, controller.scheduledTime));
  },
} satisfies ExportedHandler<Env>;

async function consume(batch: MessageBatch, env: Env): Promise<void> {
  switch (batch.queue) {
    case "passhook-callbacks":
      return consumeCallbacks(batch as MessageBatch<DeliveryTask>, env);
    case "passhook-callbacks-dlq":
      return consumeDeadLetters(batch as MessageBatch<DeliveryTask>, env);
    case "passhook-pushes":
      return consumePushes(batch as MessageBatch<PushTask>, env, [appleSubscriber(env), googleSubscriber(env)]);
    case "passhook-apple":
      return consumeApplePushes(batch as MessageBatch<WalletTask>, env);
    case "passhook-apple-dlq":
      return consumeAppleDeadLetters(batch as MessageBatch<WalletTask>, env);
    case "passhook-google":
      return consumeGoogleSync(batch as MessageBatch<WalletTask>, env);
    case "passhook-google-dlq":
      return consumeGoogleDeadLetters(batch as MessageBatch<WalletTask>, env);
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
}

/** Shards whose cron jobs run at once: each has its own time budgets, and they share one invocation. */
const CRON_SHARDS_AT_ONCE = 2;

/**
 * The cron over every D1 shard, a few at a time; a shard that fails (misconfigured, down) fails alone.
 * Each tick starts one shard further on, so a run that overruns does not always leave the same shards last.
 */
async function everyShardInTurn(env: Env, scheduledTime: number): Promise<void> {
  let shards: number[];
  try {
    const n = shardNames(env).length;
    const first = Math.floor(scheduledTime / 300_000) % n;
    shards = Array.from({ length: n }, (_, i) => (first + i) % n);
  } catch (e) {
    logError("cron did not run: D1_SHARDS is not valid", e);
    return;
  }
  const next = async (): Promise<void> => {
    const k = shards.shift();
    if (k === undefined) return;
    try {
      await cronJobs(withShard(env, k));
    } catch (e) {
      logError("cron skipped a shard", e, { shard: k });
    }
    return next();
  };
  await Promise.all(Array.from({ length: CRON_SHARDS_AT_ONCE }, next));
}

/** One shard's cron jobs. Each on its own: one failing (D1 down) neither stops the others nor logs request data. */
async function cronJobs(env: Env): Promise<void> {
  const jobs: [string, () => Promise<unknown>][] = [
    ["outbox sweep", () => sweepOutbox(env)],
    ["delivery sweep", () => sweepDeliveries(env)],
    ["wallet job sweep", () => sweepWalletJobs(env, { apple: env.APPLE_QUEUE, google: env.GOOGLE_QUEUE })],
    ["idempotency retention", () => purgeExpiredIdempotencyKeys(env)],
    ["event log retention", () => purgeOldEvents(env)],
    ["event details move to R2", () => moveLegacyDetails(env)],
    ["google reconciliation", () => reconcileGoogleSaves(env)],
    ["google nonce retention", () => purgeGoogleNonces(env)],
  ];
  await Promise.all(jobs.map(([name, job]) => job().catch((e) => logError("cron job failed", e, { job: name, shard: shardOf(env) }))));
}
