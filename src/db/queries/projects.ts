/** Projects, API keys and idempotency records. */
import { and, eq, lt, or, sql } from "drizzle-orm";
import type { Db } from "../client";
import { apiKeys, idempotencyKeys, projects } from "../schema";
import { deleteInChunks, type PurgeResult } from "./retention";

export async function insertProjectWithKey(
  db: Db,
  p: { id: string; name: string; externalId: string | null; shard: number; now: number },
  key: { key: string; secretHash: string },
) {
  const [rows] = await db.batch([
    db.insert(projects).values({ id: p.id, name: p.name, externalId: p.externalId, shard: p.shard, createdAt: p.now, updatedAt: p.now }).returning(),
    db.insert(apiKeys).values({ key: key.key, projectId: p.id, secretHash: key.secretHash, createdAt: p.now }),
  ]);
  return rows[0];
}

/** The copy of a project's row in its own shard (db/shards.ts): what the shard's rows reference. */
export async function insertShardProject(db: Db, p: { id: string; name: string; shard: number; now: number }) {
  await db.insert(projects).values({ id: p.id, name: p.name, externalId: null, shard: p.shard, createdAt: p.now, updatedAt: p.now }).onConflictDoNothing();
}

/** How many projects each shard holds (the directory's rows; a small table, read once per create). */
export async function projectsPerShard(db: Db): Promise<Map<number, number>> {
  const rows = await db.select({ shard: projects.shard, n: sql<number>`count(*)` }).from(projects).groupBy(projects.shard);
  return new Map(rows.map((r) => [r.shard, r.n]));
}

export async function findProjectShard(db: Db, id: string): Promise<number | null> {
  const rows = await db.select({ shard: projects.shard }).from(projects).where(eq(projects.id, id)).limit(1);
  return rows[0]?.shard ?? null;
}

export async function findProject(db: Db, id: string) {
  const rows = await db.select().from(projects).where(eq(projects.id, id)).limit(1);
  return rows[0] ?? null;
}

export async function findProjectByExternalId(db: Db, externalId: string) {
  const rows = await db.select({ id: projects.id }).from(projects).where(eq(projects.externalId, externalId)).limit(1);
  return rows[0] ?? null;
}

export async function findApiKey(db: Db, key: string) {
  const rows = await db.select().from(apiKeys).where(eq(apiKeys.key, key)).limit(1);
  return rows[0] ?? null;
}

/** An API key with its project's shard, in one read of the directory. */
export async function findApiKeyWithShard(db: Db, key: string) {
  const rows = await db
    .select({ projectId: apiKeys.projectId, secretHash: apiKeys.secretHash, shard: projects.shard })
    .from(apiKeys)
    .innerJoin(projects, eq(projects.id, apiKeys.projectId))
    .where(eq(apiKeys.key, key))
    .limit(1);
  return rows[0] ?? null;
}

export async function insertApiKey(db: Db, projectId: string, key: string, secretHash: string, now: number) {
  await db.insert(apiKeys).values({ key, projectId, secretHash, createdAt: now });
}

/** Deletes a key unless it is the project's last one, in one statement (two concurrent deletes cannot both pass). */
export async function deleteApiKeyUnlessLast(db: Db, projectId: string, key: string): Promise<"deleted" | "missing" | "last"> {
  const deleted = await db
    .delete(apiKeys)
    .where(
      and(
        eq(apiKeys.projectId, projectId),
        eq(apiKeys.key, key),
        sql`(select count(*) from ${apiKeys} where ${apiKeys.projectId} = ${projectId}) > 1`,
      ),
    )
    .returning({ key: apiKeys.key });
  if (deleted.length === 1) return "deleted";
  return (await findApiKey(db, key))?.projectId === projectId ? "last" : "missing";
}

// --- idempotency ---------------------------------------------------------------------------------

/**
 * Claims (scope, key) with a `processing` record, after dropping the key's record when it expired or
 * was abandoned (still `processing` since before `abandonedBefore`: its request died). One batch, one
 * round trip; returns false when a live record already holds the key.
 */
export async function claimIdempotencyKey(
  db: Db,
  k: { scope: string; key: string; fingerprint: string; now: number; expiredBefore: number; abandonedBefore: number },
): Promise<boolean> {
  const [, rows] = await db.batch([
    db
      .delete(idempotencyKeys)
      .where(
        and(
          eq(idempotencyKeys.scope, k.scope),
          eq(idempotencyKeys.key, k.key),
          or(lt(idempotencyKeys.createdAt, k.expiredBefore), and(eq(idempotencyKeys.state, "processing"), lt(idempotencyKeys.createdAt, k.abandonedBefore))),
        ),
      ),
    db
      .insert(idempotencyKeys)
      .values({ scope: k.scope, key: k.key, fingerprint: k.fingerprint, state: "processing", createdAt: k.now })
      .onConflictDoNothing()
      .returning({ key: idempotencyKeys.key }),
  ]);
  return rows.length === 1;
}

export async function findIdempotencyKey(db: Db, scope: string, key: string) {
  const rows = await db
    .select()
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)))
    .limit(1);
  return rows[0] ?? null;
}

export async function completeIdempotencyKey(db: Db, scope: string, key: string, status: number, body: string, ref: string | null) {
  await db
    .update(idempotencyKeys)
    .set({ state: "done", responseStatus: status, responseBody: body, sealed: true, ref })
    .where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)));
}

export async function releaseIdempotencyKey(db: Db, scope: string, key: string) {
  await db
    .delete(idempotencyKeys)
    .where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key), eq(idempotencyKeys.state, "processing")));
}

/** Drops records created before `before` (retention), in bounded chunks. */
export async function purgeIdempotencyKeys(db: Db, before: number, opts?: { chunk?: number; maxChunks?: number }): Promise<PurgeResult> {
  return deleteInChunks(db, idempotencyKeys, lt(idempotencyKeys.createdAt, before), opts);
}
