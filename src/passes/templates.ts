/**
 * @module passes/templates
 * Template verbs. A template belongs to one project; another project's template answers 404.
 */
import { getDb } from "../db/client";
import { deleteUnusedTemplate, findTemplate, insertTemplate, listTemplatesOfProject, updateTemplate } from "../db/queries/templates";
import type { TemplateRecord } from "../db/schema";
import { AppError, notFound } from "../lib/errors";
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
  return templateView(await updateTemplate(getDb(scope.env.DB), templateId, toWrite(body), now));
}

export async function deleteTemplate(scope: ProjectScope, templateId: number): Promise<void> {
  await ownedTemplate(scope, templateId);
  if (!(await deleteUnusedTemplate(getDb(scope.env.DB), templateId))) {
    throw new AppError("conflict", "This template still has passes or integrations; it cannot be deleted.");
  }
}
