/**
 * @module apple/push-consumer
 * The `passhook-apple` queue: each message names a push job (`p:<passId>`: push one pass to its
 * devices, push-pass.ts; `t:<templateId>`: one page of a template's fan-out, fanout.ts). A job is
 * marked done only after APNs accepted every push it owed (`finishWalletPush` with the job's
 * `wantedAt`, so a newer change keeps it pending). APNs trouble (429, 5xx, no answer) retries the
 * message with APNs's backoff; a refusal that will not change (bad credentials, PUBLIC_URL unset)
 * fails the job at once, record kept. Our own failures retry with the crash backoff. When the queue's
 * retries run out, the dead-letter consumer marks the job failed with its last error.
 *
 * One invocation shares 6 connections fairly between its messages (push-slots.ts) and starts no send
 * after PUSH_BUDGET_MS: a pass whose sends did not all begin goes back on the queue as a new message a
 * few seconds later (its job stays pending; the devices already pushed are not pushed again). So a
 * hanging APNs host holds only its own message's share, and a batch ends within about the budget plus
 * one send's timeout. Errors are stored and shown as `describeError` (no query parameters: push
 * tokens, device ids).
 */
import { crashRetryDelay } from "../lib/backoff";
import { OUTBOUND_CONNECTIONS } from "../lib/limit";
import { describeError, logError } from "../lib/log";
import { continueWalletPush, failWalletPush, finishWalletPush, parseSubject, retryWalletPushLater, walletJob, type WalletTask } from "../passes";
import { apnsTransport, type AppleEnv } from "./config";
import { failTemplateFanout, fanOutPage } from "./fanout";
import { pushPass } from "./push-pass";
import { createPushSlots } from "./push-slots";

/** No push starts later than this after the invocation began (a consumer's wall time is bounded). */
export const PUSH_BUDGET_MS = 60_000;

/** The `passhook-apple` consumer. */
export async function consumeApplePushes(batch: MessageBatch<WalletTask>, env: AppleEnv, random: () => number = Math.random, clock: () => number = Date.now): Promise<void> {
  const slots = createPushSlots(OUTBOUND_CONNECTIONS, batch.messages.length);
  const deadline = clock() + PUSH_BUDGET_MS;
  await Promise.all(
    batch.messages.map(async (msg) => {
      const task = msg.body;
      const share = slots.forMessage();
      try {
        const subject = task?.wallet === "apple" ? parseSubject(task.subject) : null;
        if (!subject) {
          console.error(JSON.stringify({ msg: "apple queue: not an apple push task; dropped" }));
          return msg.ack();
        }
        const job = await walletJob(env, task);
        if (!job?.due) return msg.ack();
        const now = Date.now();
        if (subject.kind === "template") {
          const r = await fanOutPage(env, task, job, subject.id, now);
          if (r.kind === "done") await finishWalletPush(env, task, r.shownAt, now);
          if (r.kind === "failed") await failWalletPush(env, task, r.reason, now);
          return msg.ack();
        }
        const r = await pushPass({ env, transport: apnsTransport(env), limit: share.limit, attempt: Math.max(0, msg.attempts - 1), now, deadline, clock }, subject.id);
        share.done();
        switch (r.kind) {
          case "done":
            await finishWalletPush(env, task, job.wantedAt, now);
            return msg.ack();
          case "retry":
            await retryWalletPushLater(env, task, r.reason, r.delaySeconds, now);
            return msg.retry({ delaySeconds: r.delaySeconds });
          case "deferred":
            // Not a failure: a new message, so the queue's retry count and the backoff are untouched.
            await continueWalletPush(env, env.APPLE_QUEUE, task, now, r.delaySeconds);
            return msg.ack();
          case "failed":
            logError("apple push failed for good", new Error(r.reason), { subject: task.subject });
            await failWalletPush(env, task, r.reason, now);
            return msg.ack();
        }
      } catch (e) {
        const delaySeconds = crashRetryDelay(msg.attempts, random());
        logError("apple push consumer error; retrying", e, { subject: task?.subject, delaySeconds });
        await retryWalletPushLater(env, task, `passhook error: ${describeError(e)}`, delaySeconds).catch(() => undefined);
        msg.retry({ delaySeconds });
      } finally {
        share.done();
      }
    }),
  );
}

/** `passhook-apple-dlq`: retries ran out; the job is failed with its last error and kept. */
export async function consumeAppleDeadLetters(batch: MessageBatch<WalletTask>, env: Pick<Env, "DB">): Promise<void> {
  for (const msg of batch.messages) {
    const task = msg.body;
    try {
      const subject = task?.wallet === "apple" ? parseSubject(task.subject) : null;
      if (subject) {
        const job = await walletJob(env, task);
        const reason = `retries exhausted: ${job?.lastError ?? "no error recorded"}`;
        await failWalletPush(env, task, reason);
        if (subject.kind === "template") await failTemplateFanout(env, subject.id, reason);
        console.error(JSON.stringify({ msg: "apple push dead-lettered; job failed, record kept", subject: task.subject }));
      }
      msg.ack();
    } catch (e) {
      logError("apple dead-letter consumer error; retrying", e, { subject: task?.subject });
      msg.retry({ delaySeconds: 60 });
    }
  }
}
