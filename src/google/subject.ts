/**
 * @module google/subject
 * Reads what a Google push shows: the pass's CURRENT row and its template (through the passes
 * verbs; wallets never write pass rows), with the template's `google` design parsed and the vertical
 * chosen. Because every push reads the current state, a push that runs late never shows an old one.
 */
import { getPass, getTemplate, type PassView, type TemplateView } from "../passes";
import type { TemplateLike } from "./body-parts";
import { parseGoogleDesign, type GoogleDesign } from "./design";
import type { PassLike } from "./object-body";
import { resourceFor, type GoogleResource } from "./resources";

export interface TemplateSubject {
  template: TemplateView;
  templateLike: TemplateLike;
  design: GoogleDesign;
  resource: GoogleResource;
  /** The template's updatedAt (ms). */
  updatedAt: number;
}

export interface PassSubject extends TemplateSubject {
  pass: PassView;
  passLike: PassLike;
}

/** A design that no longer parses (saved before the check existed): the push fails with its issues. */
export class DesignError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DesignError";
  }
}

type Scope = { env: Pick<Env, "DB" | "PASS_OBJECT">; projectId: string };

export function templateSubject(template: TemplateView): TemplateSubject {
  const parsed = parseGoogleDesign(template.google, template.fields, template.passType);
  if (!parsed.ok) throw new DesignError(`the template's google design is invalid: ${parsed.error.map((i) => `${i.path} ${i.message}`).join("; ")}`);
  return {
    template,
    templateLike: { id: template.id, name: template.name, passType: template.passType, fields: template.fields },
    design: parsed.value,
    resource: resourceFor(template.passType, parsed.value),
    updatedAt: Date.parse(template.updatedAt),
  };
}

/** The template of a project; throws the passes domain's 404 when it is gone or not the project's. */
export async function loadTemplateSubject(scope: Scope, templateId: number): Promise<TemplateSubject> {
  return templateSubject(await getTemplate(scope, templateId));
}

/** The pass with its template; throws 404 when the pass is gone or not the project's. */
export async function loadPassSubject(scope: Scope, passId: number): Promise<PassSubject> {
  const pass = await getPass(scope, { passId });
  return { ...(await loadTemplateSubject(scope, pass.templateId)), pass, passLike: passLike(pass) };
}

export function passLike(pass: PassView): PassLike {
  return { id: pass.id, status: pass.status, archivedAt: pass.archivedAt ? Date.parse(pass.archivedAt) : null, fields: pass.fields, externalId: pass.externalId };
}
