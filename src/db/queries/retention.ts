/**
 * Retention deletes, bounded per statement and per run. Each chunk is one statement of `chunk` rows
 * picked through an index on the timestamp it filters by, so no statement scans a whole table or runs
 * near D1's 30 s query limit. A cron run goes on while rows are due, for up to `budgetMs` (60 s: at
 * least tens of thousands of rows a run, far above what a day of traffic makes due per 5 minutes), so
 * retention keeps up with the write rate instead of a fixed number of rows per run. Returns how many
 * rows went, and whether more were still due when the budget ran out.
 */
import { sql, type SQL } from "drizzle-orm";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import type { Db } from "../client";

export const PURGE_CHUNK = 500;
/** A cron run's time per retention job (each job its own); the chunk cap only guards against a runaway loop. */
export const PURGE_BUDGET_MS = 60_000;
export const PURGE_MAX_CHUNKS = 5_000;

export interface PurgeOptions {
  chunk?: number;
  maxChunks?: number;
  budgetMs?: number;
}

export interface PurgeResult {
  deleted: number;
  more: boolean;
}

export async function deleteInChunks(db: Db, table: SQLiteTable, due: SQL, opts: PurgeOptions = {}): Promise<PurgeResult> {
  const chunk = opts.chunk ?? PURGE_CHUNK;
  const maxChunks = opts.maxChunks ?? PURGE_MAX_CHUNKS;
  const until = Date.now() + (opts.budgetMs ?? PURGE_BUDGET_MS);
  let deleted = 0;
  for (let i = 0; i < maxChunks && (i === 0 || Date.now() < until); i++) {
    const r = await db.run(sql`delete from ${table} where rowid in (select rowid from ${table} where ${due} limit ${chunk})`);
    const n = r.meta.changes ?? 0;
    deleted += n;
    if (n < chunk) return { deleted, more: false };
  }
  return { deleted, more: true };
}
