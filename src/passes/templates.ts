/**
 * @module passes/templates
 * Template verbs. A template belongs to one project; another project's template answers 404.
 */
import { getDb } from "../db/client";
import { shardField, shardOf } from "../db/shards";
import { deleteUnusedTemplate, findTemplate, insertTemplate, listTemplatesOfProject, updateTemplate } from "../db/queries/templates";
import type { TemplateRecord } from "../db/schema";
import { AppError, notFound } from "../lib/errors";
import { logError } from "../lib/log";
import { TtlCache } from "../lib/ttl-cache";
import type { PushTask } from "./pass-object";
import type { TemplateBody } from "./schemas";
import { templateView } from "./view";

export interface ProjectScope {
  env: Pick<Env, "DB">;
  projectId: string;
}

/** Loads a template of the caller's project, or throws 404. */
export async function ownedTemplate(scope: ProjectScope, templateId: number): Promise<TemplateRecord> {
  const t = await findTemplate(getDb(scope.env.DB), templateId);
  if (!t || t.projectId !== scope.projectId) throw notFound("Template");
  return t;
}

/**
 * How long a listener may use a template it read before: an edit made in another isolate reaches
 * listener requests within this time (in the same isolate, at once).
 */
export const TEMPLATE_CACHE_MS = 5_000;
// Keyed by shard and id: integer ids are per D1 shard (db/shards.ts).
const templateCache = new TtlCache<string, TemplateRecord>(TEMPLATE_CACHE_MS);

/** `ownedTemplate` through a short per-isolate cache, for the listener's hot path. */
export async function cachedTemplate(scope: ProjectScope, templateId: number, now = Date.now()): Promise<TemplateRecord> {
  const key = `${shardOf(scope.env)}:${templateId}`;
  const hit = templateCache.get(key, now);
  if (hit && hit.projectId === scope.projectId) return hit;
  const t = await ownedTemplate(scope, templateId);
  templateCache.set(key, t, now);
  return t;
}

const toWrite = (b: TemplateBody) => ({
  name: b.name,
  passType: b.passType,
  fields: b.fields,
  apple: b.apple ?? null,
  google: b.google ?? null,
});

/** Writes go with a wallet change task (outbox), so a wallet can create or update what it shows. */
export interface TemplateWriteScope extends ProjectScope {
  env: Pick<Env, "DB" | "PUSHES_QUEUE">;
}

export async function createTemplate(scope: TemplateWriteScope, body: TemplateBody, now = Date.now()) {
  const { row, outboxId } = await insertTemplate(getDb(scope.env.DB), scope.projectId, toWrite(body), now);
  await handOff(scope, outboxId);
  return templateView(row);
}

/** A lost send is not fatal: the outbox row is committed and the cron sweep sends it again. */
async function handOff(scope: TemplateWriteScope, outboxId: number) {
  try {
    await scope.env.PUSHES_QUEUE.send({ outboxId, ...shardField(scope.env) } satisfies PushTask);
  } catch (e) {
    logError("queue send failed; the sweep will retry", e, { queue: "pushes" });
  }
}

export async function listTemplates(scope: ProjectScope) {
  return (await listTemplatesOfProject(getDb(scope.env.DB), scope.projectId)).map(templateView);
}

export async function getTemplate(scope: ProjectScope, templateId: number) {
  return templateView(await ownedTemplate(scope, templateId));
}

/**
 * Replaces a template. Existing passes keep their values; later writes are checked against the new
 * fields. The wallets hear of it (outbox), so every holder's pass shows the new design.
 */
export async function replaceTemplate(scope: TemplateWriteScope, templateId: number, body: TemplateBody, now = Date.now()) {
  await ownedTemplate(scope, templateId);
  const { row, outboxId } = await updateTemplate(getDb(scope.env.DB), templateId, scope.projectId, toWrite(body), now);
  templateCache.forgetWhere((t) => t.id === templateId);
  await handOff(scope, outboxId);
  return templateView(row);
}

export async function deleteTemplate(scope: ProjectScope, templateId: number): Promise<void> {
  await ownedTemplate(scope, templateId);
  templateCache.forgetWhere((t) => t.id === templateId);
  if (!(await deleteUnusedTemplate(getDb(scope.env.DB), templateId))) {
    throw new AppError("conflict", "This template still has passes or integrations; it cannot be deleted.");
  }
}
