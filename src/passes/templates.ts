/**
 * @module passes/templates
 * Template verbs. A template belongs to one project; another project's template answers 404.
 */
import { getDb } from "../db/client";
import { deleteUnusedTemplate, findTemplate, insertTemplate, listTemplatesOfProject, updateTemplate } from "../db/queries/templates";
import type { TemplateRecord } from "../db/schema";
import { AppError, notFound } from "../lib/errors";
import { TtlCache } from "../lib/ttl-cache";
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
const templateCache = new TtlCache<number, TemplateRecord>(TEMPLATE_CACHE_MS);

/** `ownedTemplate` through a short per-isolate cache, for the listener's hot path. */
export async function cachedTemplate(scope: ProjectScope, templateId: number, now = Date.now()): Promise<TemplateRecord> {
  const hit = templateCache.get(templateId, now);
  if (hit && hit.projectId === scope.projectId) return hit;
  const t = await ownedTemplate(scope, templateId);
  templateCache.set(templateId, t, now);
  return t;
}

const toWrite = (b: TemplateBody) => ({
  name: b.name,
  passType: b.passType,
  fields: b.fields,
  apple: b.apple ?? null,
  google: b.google ?? null,
});

export async function createTemplate(scope: ProjectScope, body: TemplateBody, now = Date.now()) {
  return templateView(await insertTemplate(getDb(scope.env.DB), scope.projectId, toWrite(body), now));
}

export async function listTemplates(scope: ProjectScope) {
  return (await listTemplatesOfProject(getDb(scope.env.DB), scope.projectId)).map(templateView);
}

export async function getTemplate(scope: ProjectScope, templateId: number) {
  return templateView(await ownedTemplate(scope, templateId));
}

/** Replaces a template. Existing passes keep their values; later writes are checked against the new fields. */
export async function replaceTemplate(scope: ProjectScope, templateId: number, body: TemplateBody, now = Date.now()) {
  await ownedTemplate(scope, templateId);
  const row = await updateTemplate(getDb(scope.env.DB), templateId, toWrite(body), now);
  templateCache.forgetWhere((t) => t.id === templateId);
  return templateView(row);
}

export async function deleteTemplate(scope: ProjectScope, templateId: number): Promise<void> {
  await ownedTemplate(scope, templateId);
  templateCache.forgetWhere((t) => t.id === templateId);
  if (!(await deleteUnusedTemplate(getDb(scope.env.DB), templateId))) {
    throw new AppError("conflict", "This template still has passes or integrations; it cannot be deleted.");
  }
}
