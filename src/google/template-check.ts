/**
 * @module google/template-check
 * Checks a template's `google` design where the admin API saves templates (api.md "Templates"), so
 * a design naming a missing field or a section of another pass type fails with a 400 at save and
 * never at the first push. An absent design is an empty one and always passes.
 */
import type { FieldDef } from "../db/schema";
import type { FieldIssue } from "../lib/errors";
import { parseGoogleDesign } from "./design";

export function checkGoogleTemplate(body: { passType: string; fields: readonly FieldDef[]; google?: unknown }): FieldIssue[] {
  const r = parseGoogleDesign(body.google ?? null, body.fields, body.passType);
  return r.ok ? [] : r.error;
}
