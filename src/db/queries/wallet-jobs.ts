/**
 * Wallet push jobs (schema/wallets.ts): one row per (wallet, subject), coalescing changes. Every
 * statement is a single-row upsert or compare-and-set, so concurrent consumers and dispatchers agree
 * without reading first.
 */
import { and, eq, sql } from "drizzle-orm";
import type { Db } from "../client";
import { walletJobs, type WalletJobRecord, type WalletName } from "../schema";

type JobRequest = { wallet: WalletName; subject: string; projectId: string; wantedAt: number; now: number };

function requestStatement(db: Db, j: JobRequest) {
  return db
    .insert(walletJobs)
    .values({ wallet: j.wallet, subject: j.subject, projectId: j.projectId, wantedAt: j.wantedAt, state: "pending", nextAttemptAt: j.now, createdAt: j.now, updatedAt: j.now })
    .onConflictDoUpdate({
      target: [walletJobs.wallet, walletJobs.subject],
      set: {
        wantedAt: sql`max(${walletJobs.wantedAt}, excluded.wanted_at)`,
        state: sql`case when max(${walletJobs.wantedAt}, excluded.wanted_at) > ${walletJobs.doneAt} then 'pending' else ${walletJobs.state} end`,
        attempts: sql`case when excluded.wanted_at > ${walletJobs.wantedAt} then 0 else ${walletJobs.attempts} end`,
        // A due job gets a message now (the caller sends it).
        nextAttemptAt: j.now,
        updatedAt: j.now,
      },
    })
    .returning({ wantedAt: walletJobs.wantedAt, doneAt: walletJobs.doneAt });
}

/** Asks for the subject's newest change to be shown; returns whether the job is due (wanted past done). */
export async function requestWalletJob(db: Db, j: JobRequest): Promise<boolean> {
  const r = (await requestStatement(db, j))[0];
  return !!r && r.wantedAt > r.doneAt;
}

/** `requestWalletJob` for many subjects in one batch (one round trip); returns which are due. */
export async function requestWalletJobs(db: Db, jobs: JobRequest[]): Promise<boolean[]> {
  if (!jobs.length) return [];
  const [first, ...rest] = jobs.map((j) => requestStatement(db, j));
  const results = await db.batch([first, ...rest]);
  return results.map((rows) => {
    const r = (rows as { wantedAt: number; doneAt: number }[])[0];
    return !!r && r.wantedAt > r.doneAt;
  });
}

export async function findWalletJob(db: Db, wallet: WalletName, subject: string): Promise<WalletJobRecord | null> {
  const rows = await db.select().from(walletJobs).where(and(eq(walletJobs.wallet, wallet), eq(walletJobs.subject, subject))).limit(1);
  return rows[0] ?? null;
}

/**
 * Records that the state as of `shownAt` reached the wallet. The job stays pending when a newer change
 * arrived meanwhile (its own message carries it).
 */
export async function completeWalletJob(db: Db, wallet: WalletName, subject: string, shownAt: number, now: number): Promise<void> {
  await db
    .update(walletJobs)
    .set({
      doneAt: sql`max(${walletJobs.doneAt}, ${shownAt})`,
      state: sql`case when ${walletJobs.wantedAt} > max(${walletJobs.doneAt}, ${shownAt}) then 'pending' else 'done' end`,
      attempts: 0,
      lastError: null,
      nextAttemptAt: now,
      updatedAt: now,
    })
    .where(and(eq(walletJobs.wallet, wallet), eq(walletJobs.subject, subject)));
}

/**
 * Counts a failed try (with its reason) on a job that will be retried; `retryAt` is when the retried
 * message runs (the sweep leaves the job alone until then).
 */
export async function noteWalletJobAttempt(db: Db, wallet: WalletName, subject: string, error: string, now: number, retryAt = now): Promise<void> {
  await db
    .update(walletJobs)
    .set({ attempts: sql`${walletJobs.attempts} + 1`, lastError: error, nextAttemptAt: retryAt, updatedAt: now })
    .where(and(eq(walletJobs.wallet, wallet), eq(walletJobs.subject, subject)));
}

/** A pending job's task was sent again (a fan-out's next page): its message runs now. */
export async function markWalletJobSent(db: Db, wallet: WalletName, subject: string, now: number, dueAt = now): Promise<void> {
  await db
    .update(walletJobs)
    .set({ nextAttemptAt: dueAt, updatedAt: now })
    .where(and(eq(walletJobs.wallet, wallet), eq(walletJobs.subject, subject), eq(walletJobs.state, "pending")));
}

/** Marks a job failed for good (its retries ran out, or the wallet refused it), keeping its record. */
export async function failWalletJob(db: Db, wallet: WalletName, subject: string, error: string, now: number): Promise<void> {
  await db
    .update(walletJobs)
    .set({ state: "failed", lastError: error, updatedAt: now })
    .where(and(eq(walletJobs.wallet, wallet), eq(walletJobs.subject, subject), eq(walletJobs.state, "pending")));
}

/**
 * Pending jobs whose message was due before `before` (it was lost): moves their due time to `now` and
 * returns them to re-send. A range of the (state, next_attempt_at) index: jobs waiting out a backoff
 * are not read.
 */
export async function claimStaleWalletJobs(db: Db, before: number, now: number, limit: number) {
  return db
    .update(walletJobs)
    .set({ nextAttemptAt: now, updatedAt: now })
    .where(
      sql`(${walletJobs.wallet}, ${walletJobs.subject}) in (select wallet, subject from wallet_jobs where state = 'pending' and next_attempt_at < ${before} order by next_attempt_at limit ${limit})`,
    )
    .returning({ wallet: walletJobs.wallet, subject: walletJobs.subject });
}

export async function listWalletJobs(db: Db, projectId: string, wallet: WalletName, state: WalletJobRecord["state"], limit: number) {
  return db
    .select()
    .from(walletJobs)
    .where(and(eq(walletJobs.projectId, projectId), eq(walletJobs.wallet, wallet), eq(walletJobs.state, state)))
    .orderBy(walletJobs.updatedAt)
    .limit(limit);
}

