/**
 * @module projects/create
 * Projects are created by the operator; each comes with its first API key, shown once. A project is
 * placed in a D1 shard (placement.ts): its row goes to that shard first (what the shard's rows will
 * reference), then to the directory with its key. A failure between the two leaves an unreferenced
 * row in the shard, which nothing can reach: the create is simply not done, and a retry places anew.
 */
import { getDb } from "../db/client";
import { findProject, findProjectByExternalId, insertProjectWithKey, insertShardProject } from "../db/queries/projects";
import { directoryDb, withShard } from "../db/shards";
import { AppError, notFound } from "../lib/errors";
import { newId } from "../lib/ids";
import { isUniqueViolation } from "../lib/log";
import { iso } from "../lib/time";
import { mintApiKey } from "./api-keys";
import { placeNewProject } from "./placement";

export async function createProject(env: Pick<Env, "DB"> & Partial<Pick<Env, "D1_SHARDS" | "D1_OPEN_SHARDS">>, input: { name: string; externalId?: string }, now = Date.now()) {
  const db = getDb(directoryDb(env));
  if (input.externalId && (await findProjectByExternalId(db, input.externalId))) throw alreadyExists();
  const key = await mintApiKey();
  const id = newId("project");
  const shard = await placeNewProject(env);
  if (shard !== 0) await insertShardProject(getDb(withShard(env, shard).DB), { id, name: input.name, shard, now });
  let project;
  try {
    project = await insertProjectWithKey(
      db,
      { id, name: input.name, externalId: input.externalId ?? null, shard, now },
      { key: key.key, secretHash: key.secretHash },
    );
  } catch (e) {
    // Two creates with one externalId can both pass the check above; the unique index decides.
    if (input.externalId && isUniqueViolation(e)) throw alreadyExists();
    throw e;
  }
  return { ...projectView(project), apiKey: { key: key.key, secret: key.secret } };
}

const alreadyExists = () => new AppError("already_exists", "A project with this externalId already exists.");

export async function getProject(env: Pick<Env, "DB">, projectId: string) {
  const p = await findProject(getDb(directoryDb(env)), projectId);
  if (!p) throw notFound("Project");
  return projectView(p);
}

function projectView(p: { id: string; name: string; externalId: string | null; createdAt: number; updatedAt: number }) {
  return { id: p.id, name: p.name, externalId: p.externalId, createdAt: iso(p.createdAt), updatedAt: iso(p.updatedAt) };
}
