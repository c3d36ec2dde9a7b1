/**
 * @module passes/wallet-jobs
 * Push jobs, shared by both wallets: one row per (wallet, subject) coalescing changes (schema/wallets.ts),
 * and an id-only message on the wallet's own queue. A wallet's consumer loads the job, shows the
 * subject's current state, and marks the job done only after the wallet accepted it; its retries back
 * off, and when they run out the job is marked failed with its last error and kept. A later change
 * makes it pending again. The cron sweep re-sends pending jobs whose message was lost: 15 minutes
 * after it should have run (a consumer's retry records when it runs, so backoffs are left alone).
 */
import { getDb } from "../db/client";
import { shardField } from "../db/shards";
import {
  claimStaleWalletJobs,
  completeWalletJob,
  failWalletJob,
  findWalletJob,
  markWalletJobSent,
  noteWalletJobAttempt,
  requestWalletJob,
  requestWalletJobs,
} from "../db/queries/wallet-jobs";
import type { WalletJobRecord, WalletName } from "../db/schema";
import { MINUTE } from "../lib/time";

/** A wallet queue's message: ids only, and the D1 shard they are in (absent for shard 0). */
export interface WalletTask {
  wallet: WalletName;
  subject: string;
  shard?: number;
}

export type { WalletJobRecord };

export const passSubject = (passId: number) => `p:${passId}`;
export const templateSubject = (templateId: number) => `t:${templateId}`;

/** `p:<passId>` or `t:<templateId>`, or null for anything else. */
export function parseSubject(subject: string): { kind: "pass" | "template"; id: number } | null {
  const m = /^([pt]):([1-9][0-9]{0,15})$/.exec(subject);
  if (!m) return null;
  const id = Number(m[2]);
  return Number.isSafeInteger(id) ? { kind: m[1] === "p" ? "pass" : "template", id } : null;
}

type JobEnv = Pick<Env, "DB">;

/** Asks a wallet to show the subject's state as of `wantedAt`; sends its task when the job is due. */
export async function requestWalletPush(
  env: JobEnv,
  queue: Queue,
  job: { wallet: WalletName; subject: string; projectId: string; wantedAt: number },
  now = Date.now(),
): Promise<boolean> {
  const due = await requestWalletJob(getDb(env.DB), { ...job, now });
  if (due) await queue.send({ wallet: job.wallet, subject: job.subject, ...shardField(env) } satisfies WalletTask);
  return due;
}

/**
 * `requestWalletPush` for many subjects of one wallet: one D1 batch and one queue batch (at most 100
 * messages each) instead of two round trips per subject. A fan-out over a template's passes uses it.
 * Returns how many jobs were due (and sent).
 */
export async function requestWalletPushes(
  env: JobEnv,
  queue: Queue,
  jobs: { wallet: WalletName; subject: string; projectId: string; wantedAt: number }[],
  now = Date.now(),
): Promise<number> {
  const due = await requestWalletJobs(getDb(env.DB), jobs.map((j) => ({ ...j, now })));
  const tasks = jobs.filter((_, i) => due[i]).map((j) => ({ body: { wallet: j.wallet, subject: j.subject, ...shardField(env) } satisfies WalletTask }));
  for (let i = 0; i < tasks.length; i += 100) await queue.sendBatch(tasks.slice(i, i + 100));
  return tasks.length;
}

/** The job a task names, or null when it is gone; `due` says whether there is anything to show. */
export async function walletJob(env: JobEnv, task: WalletTask): Promise<(WalletJobRecord & { due: boolean }) | null> {
  const job = await findWalletJob(getDb(env.DB), task.wallet, task.subject);
  return job ? { ...job, due: job.state === "pending" && job.wantedAt > job.doneAt } : null;
}

/** The wallet accepted the subject's state as of `shownAt` (the job's wantedAt when the push began). */
export async function finishWalletPush(env: JobEnv, task: WalletTask, shownAt: number, now = Date.now()): Promise<void> {
  await completeWalletJob(getDb(env.DB), task.wallet, task.subject, shownAt, now);
}

/** A failed try that will be retried. */
export async function noteWalletPushFailure(env: JobEnv, task: WalletTask, error: string, now = Date.now()): Promise<void> {
  await noteWalletJobAttempt(getDb(env.DB), task.wallet, task.subject, error, now);
}

/**
 * A failed try whose message the consumer retries after `delaySeconds` (`msg.retry({delaySeconds})`):
 * counts it, keeps the reason, and records when the retry runs, so the sweep does not re-send the job
 * during the backoff (a re-sent message would start at attempt 1 and run at once). Call it right
 * before `msg.retry` with the same delay.
 */
export async function retryWalletPushLater(env: JobEnv, task: WalletTask, error: string, delaySeconds: number, now = Date.now()): Promise<void> {
  const delayMs = Number.isFinite(delaySeconds) && delaySeconds > 0 ? delaySeconds * 1000 : 0;
  await noteWalletJobAttempt(getDb(env.DB), task.wallet, task.subject, error, now, now + delayMs);
}

/**
 * Sends a job's task again for its next step (a template fan-out's next page, or the pushes a time
 * budget left for later, after `delaySeconds`) and dates the new message, so the sweep does not
 * re-send a job that is still running.
 */
export async function continueWalletPush(env: JobEnv, queue: Queue, task: WalletTask, now = Date.now(), delaySeconds = 0): Promise<void> {
  await markWalletJobSent(getDb(env.DB), task.wallet, task.subject, now, now + delaySeconds * 1000);
  await queue.send({ wallet: task.wallet, subject: task.subject, ...shardField(env) } satisfies WalletTask, delaySeconds > 0 ? { delaySeconds } : undefined);
}

/** Retries ran out, or the wallet refused for good: the job is failed, its record kept. */
export async function failWalletPush(env: JobEnv, task: WalletTask, error: string, now = Date.now()): Promise<void> {
  await failWalletJob(getDb(env.DB), task.wallet, task.subject, error, now);
}

export const WALLET_JOB_RESEND_AFTER = 15 * MINUTE;

/**
 * Re-sends pending jobs whose message is 15 minutes overdue (it was lost) to their wallet's queue:
 * due = when the message was sent, or when the consumer's retry runs (`retryWalletPushLater`).
 */
export async function sweepWalletJobs(env: JobEnv, queues: Record<WalletName, Queue>, now = Date.now()): Promise<number> {
  const stale = await claimStaleWalletJobs(getDb(env.DB), now - WALLET_JOB_RESEND_AFTER, now, 100);
  for (const wallet of ["apple", "google"] as const) {
    const tasks = stale.filter((s) => s.wallet === wallet);
    if (tasks.length) await queues[wallet].sendBatch(tasks.map((t) => ({ body: { wallet, subject: t.subject, ...shardField(env) } satisfies WalletTask })));
  }
  return stale.length;
}
