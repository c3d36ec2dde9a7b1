/**
 * @module projects/placement
 * Which D1 shard a project lives in (docs/scaling.md "D1 sharded by project"). New projects go to the
 * open shard (D1_OPEN_SHARDS, default every shard) holding the fewest projects; a project never moves
 * on its own (moving one is an operator's export and import). Entry points that only know a project id
 * (a dashboard session, a Google object id) ask the directory here, through a per-isolate cache.
 */
import { getDb } from "../db/client";
import { findProjectShard, projectsPerShard } from "../db/queries/projects";
import { directoryDb, isShard, openShards, shardCount, withShard } from "../db/shards";
import { LookupCache } from "../lib/ttl-cache";

/** For entry points that learned a project's shard: `env` whose `DB` is that shard. */
export { withShard };

/** A project's shard does not change while it runs, so the cache may be long; a minute bounds a move. */
const SHARD_CACHE_MS = 60_000;
// Unknown project ids are cached apart (LookupCache): forged Google callbacks can name any project
// they like, and each would otherwise be a read of the directory every request shares.
const byProject = new LookupCache<string, number>(SHARD_CACHE_MS);

type DirectoryEnv = Pick<Env, "DB"> & { D1_SHARDS?: string; D1_OPEN_SHARDS?: string };

/** The shard for a new project: the open one with the fewest projects (the lowest index on a tie). */
export async function placeNewProject(env: DirectoryEnv): Promise<number> {
  const open = openShards(env);
  if (open.length === 1) return open[0];
  const counts = await projectsPerShard(getDb(directoryDb(env)));
  return open.reduce((best, k) => ((counts.get(k) ?? 0) < (counts.get(best) ?? 0) ? k : best), open[0]);
}

/** The shard of a project, or null for a project the directory does not have. */
export async function projectShard(env: DirectoryEnv, projectId: string, now = Date.now()): Promise<number | null> {
  if (shardCount(env) === 1) return 0;
  return byProject.get(projectId, now, async () => {
    const k = await findProjectShard(getDb(directoryDb(env)), projectId);
    return k !== null && isShard(env, k) ? k : null;
  });
}

/** `env` for a project's shard, or null for an unknown project. */
export async function projectEnv<E extends DirectoryEnv>(env: E, projectId: string): Promise<E | null> {
  const k = await projectShard(env, projectId);
  return k === null ? null : withShard(env, k);
}
