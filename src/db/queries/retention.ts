/**
 * Retention deletes, bounded. A cron run deletes at most `maxChunks` chunks of `chunk` rows per table,
 * each chunk one statement that picks rows through an index on the timestamp it filters by, so no
 * statement scans a whole table or runs near D1's 30 s query limit, and a backlog drains over a few runs
 * instead of one huge delete. Returns how many rows went, and whether more are due.
 */
import { sql, type SQL } from "drizzle-orm";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import type { Db } from "../client";

export const PURGE_CHUNK = 500;
export const PURGE_MAX_CHUNKS = 20;

export interface PurgeResult {
  deleted: number;
  more: boolean;
}

export async function deleteInChunks(db: Db, table: SQLiteTable, due: SQL, opts: { chunk?: number; maxChunks?: number } = {}): Promise<PurgeResult> {
  const chunk = opts.chunk ?? PURGE_CHUNK;
  const maxChunks = opts.maxChunks ?? PURGE_MAX_CHUNKS;
  let deleted = 0;
  for (let i = 0; i < maxChunks; i++) {
    const r = await db.run(sql`delete from ${table} where rowid in (select rowid from ${table} where ${due} limit ${chunk})`);
    const n = r.meta.changes ?? 0;
    deleted += n;
    if (n < chunk) return { deleted, more: false };
  }
  return { deleted, more: true };
}
