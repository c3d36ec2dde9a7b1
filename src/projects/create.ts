/**
 * @module projects/create
 * Projects are created by the operator; each comes with its first API key, shown once.
 */
import { getDb } from "../db/client";
import { findProject, findProjectByExternalId, insertProjectWithKey } from "../db/queries/projects";
import { AppError, notFound } from "../lib/errors";
import { newId } from "../lib/ids";
import { isUniqueViolation } from "../lib/log";
import { iso } from "../lib/time";
import { mintApiKey } from "./api-keys";

export async function createProject(env: Pick<Env, "DB">, input: { name: string; externalId?: string }, now = Date.now()) {
  const db = getDb(env.DB);
  if (input.externalId && (await findProjectByExternalId(db, input.externalId))) throw alreadyExists();
  const key = await mintApiKey();
  let project;
  try {
    project = await insertProjectWithKey(
      db,
      { id: newId("project"), name: input.name, externalId: input.externalId ?? null, now },
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
  const p = await findProject(getDb(env.DB), projectId);
  if (!p) throw notFound("Project");
  return projectView(p);
}

function projectView(p: { id: string; name: string; externalId: string | null; createdAt: number; updatedAt: number }) {
  return { id: p.id, name: p.name, externalId: p.externalId, createdAt: iso(p.createdAt), updatedAt: iso(p.updatedAt) };
}
