/** The public shapes of templates and passes (api.md "Pass object"). */
import type { PassRecord, TemplateRecord } from "../db/schema";
import { iso, isoOrNull } from "../lib/time";

export function passView(p: PassRecord) {
  return {
    id: p.id,
    templateId: p.templateId,
    projectId: p.projectId,
    externalId: p.externalId,
    serialNumber: p.serialNumber,
    status: p.status,
    fields: p.fields,
    version: p.version,
    createdAt: iso(p.createdAt),
    updatedAt: iso(p.updatedAt),
    archivedAt: isoOrNull(p.archivedAt),
  };
}
export type PassView = ReturnType<typeof passView>;

export function templateView(t: TemplateRecord) {
  return {
    id: t.id,
    projectId: t.projectId,
    name: t.name,
    passType: t.passType,
    fields: t.fields,
    apple: t.apple ?? null,
    google: t.google ?? null,
    createdAt: iso(t.createdAt),
    updatedAt: iso(t.updatedAt),
  };
}
export type TemplateView = ReturnType<typeof templateView>;
