/**
 * @module google/sync-consumer
 * The `passhook-google` queue consumer and its dead-letter consumer. A message names a push job
 * (`{wallet: "google", subject: "p:<passId>" | "t:<templateId>"}`, passes/wallet-jobs.ts); the
 * consumer shows the subject's current state at Google (push.ts) and settles the job:
 * - Google accepted: the job is done as of the `wantedAt` it read when it began;
 * - 429, 5xx, network errors: the failure is noted and the message retried after 10 s doubling to
 *   1 h with jitter, never sooner than Google's Retry-After (wallet-api.ts retryDelaySeconds); the job
 *   records when the retry runs, so the cron's sweep leaves it alone meanwhile;
 * - any other 4xx (Google keeps refusing it), no credentials, no PUBLIC_URL: the job is failed with
 *   the reason (Google's own message) and the message acked;
 * - our own crash (D1 down): retried with the crash back-off, like the other consumers.
 * When the queue's retries run out the message lands in `passhook-google-dlq`, whose consumer marks
 * the job failed with its last error; the row is kept, and the pass's next change makes it pending.
 */
import { crashRetryDelay } from "../lib/backoff";
import { createLimiter, OUTBOUND_CONNECTIONS } from "../lib/limit";
import { describeError, logError } from "../lib/log";
import { continueWalletPush, failWalletPush, finishWalletPush, parseSubject, retryWalletPushLater, walletJob, type WalletTask } from "../passes";
import { googleAccount, MISSING_PUBLIC_URL, publicBase, type GoogleEnv } from "./account";
import { pushPass, pushTemplate, type PushEnv, type PushResult } from "./push";
import { retryDelaySeconds } from "./wallet-api";

export type SyncEnv = GoogleEnv & PushEnv;

export interface SyncOptions {
  random?: () => number;
  now?: () => number;
}

async function run(env: SyncEnv, projectId: string, subject: { kind: "pass" | "template"; id: number }, now: () => number): Promise<PushResult> {
  const account = await googleAccount(env, projectId);
  if (!account) return { kind: "failed", message: "the project has no Google Wallet credentials" };
  const base = publicBase(env);
  if (!base) return { kind: "failed", message: MISSING_PUBLIC_URL };
  return subject.kind === "pass" ? pushPass(env, account, base, subject.id, now) : pushTemplate(env, account, base, subject.id, now);
}

export async function consumeGoogleSync(batch: MessageBatch<WalletTask>, env: SyncEnv, opts: SyncOptions = {}): Promise<void> {
  const random = opts.random ?? Math.random;
  const now = opts.now ?? Date.now;
  // Each message makes its requests one after another: at most 6 messages at once keeps us within
  // the invocation's 6 outbound connections.
  const limit = createLimiter(OUTBOUND_CONNECTIONS);
  await Promise.all(batch.messages.map((msg) => limit(() => handle(msg))));

  async function handle(msg: Message<WalletTask>): Promise<void> {
    const task = msg.body;
    const subject = task && task.wallet === "google" && typeof task.subject === "string" ? parseSubject(task.subject) : null;
    if (!subject) {
      console.error(JSON.stringify({ msg: "google task without a valid subject; dropped" }));
      return msg.ack();
    }
    try {
      const job = await walletJob(env, task);
      if (!job?.due) return msg.ack();
      const result = await run(env, job.projectId, subject, now);
      switch (result.kind) {
        case "done":
          await finishWalletPush(env, task, job.wantedAt, now());
          return msg.ack();
        case "continue":
          await continueWalletPush(env, env.GOOGLE_QUEUE, task, now());
          return msg.ack();
        case "stop":
          return msg.ack();
        case "retry": {
          const delaySeconds = retryDelaySeconds(msg.attempts, result.retryAfterSeconds, random());
          await retryWalletPushLater(env, task, result.message, delaySeconds, now());
          console.log(JSON.stringify({ msg: "google push will retry", subject: task.subject, delaySeconds, reason: result.message }));
          return msg.retry({ delaySeconds });
        }
        case "failed":
          await failWalletPush(env, task, result.message, now());
          console.log(JSON.stringify({ msg: "google push failed", subject: task.subject, reason: result.message }));
          return msg.ack();
      }
    } catch (e) {
      const delaySeconds = crashRetryDelay(msg.attempts, random());
      logError("google push crashed; retrying", e, { subject: task.subject, delaySeconds });
      await retryWalletPushLater(env, task, `internal error: ${describeError(e)}`, delaySeconds, now()).catch(() => undefined);
      msg.retry({ delaySeconds });
    }
  }
}

/** `passhook-google-dlq`: retries ran out; the job is failed with its last error and kept. */
export async function consumeGoogleDeadLetters(batch: MessageBatch<WalletTask>, env: Pick<Env, "DB">, opts: SyncOptions = {}): Promise<void> {
  const now = opts.now ?? Date.now;
  for (const msg of batch.messages) {
    const task = msg.body;
    if (!task || task.wallet !== "google" || !parseSubject(String(task.subject))) {
      msg.ack();
      continue;
    }
    try {
      const job = await walletJob(env, task);
      await failWalletPush(env, task, `retries exhausted: ${job?.lastError ?? "unknown error"}`, now());
      console.error(JSON.stringify({ msg: "google push dead-lettered", subject: task.subject }));
      msg.ack();
    } catch (e) {
      logError("google dead-letter consumer error; retrying", e, { subject: task.subject });
      msg.retry({ delaySeconds: crashRetryDelay(msg.attempts, (opts.random ?? Math.random)()) });
    }
  }
}
