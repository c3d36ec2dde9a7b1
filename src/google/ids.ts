/**
 * @module google/ids
 * Google Wallet class and object ids (google-wallet.md §2 "IDs"): `{issuerId}.{identifier}`, where
 * the identifier may use only letters, digits, `.`, `_` and `-` and must be unique across the
 * issuer's classes (resp. objects). Ours are derived, never stored, and never change:
 *
 *   class  `{issuerId}.{projectId}.t{templateId}`   e.g. `3388000000022141777.prj_k3…q.t12`
 *   object `{issuerId}.{projectId}.p{passId}`       e.g. `3388000000022141777.prj_k3…q.p4711`
 *
 * Why the project id: template and pass ids are per-deployment integers, so two deployments (a
 * staging Worker, a developer's local D1) sharing one issuer would otherwise address the same
 * Google objects: pass 1 of a laptop would patch pass 1 of production. Project ids are random
 * (`prj_` + 23 base-36 characters) and only use allowed characters. Because the id is derived, a
 * callback's `objectId` maps straight back to a pass without a lookup table.
 */

const PROJECT_ID = /^[A-Za-z0-9_-]{1,64}$/;
const ISSUER_ID = /^[0-9]{1,25}$/;

function check(issuerId: string, projectId: string, n: number): void {
  if (!ISSUER_ID.test(issuerId)) throw new Error("issuer id must be digits");
  if (!PROJECT_ID.test(projectId)) throw new Error("project id has characters Google does not allow in ids");
  if (!Number.isSafeInteger(n) || n < 1) throw new Error("template and pass ids must be positive integers");
}

export function googleClassId(issuerId: string, projectId: string, templateId: number): string {
  check(issuerId, projectId, templateId);
  return `${issuerId}.${projectId}.t${templateId}`;
}

export function googleObjectId(issuerId: string, projectId: string, passId: number): string {
  check(issuerId, projectId, passId);
  return `${issuerId}.${projectId}.p${passId}`;
}

function parse(id: unknown, issuerId: string, letter: "t" | "p"): { projectId: string; id: number } | null {
  if (typeof id !== "string" || id.length > 200) return null;
  const m = /^([0-9]{1,25})\.([A-Za-z0-9_-]{1,64})\.([tp])([1-9][0-9]{0,15})$/.exec(id);
  if (!m || m[1] !== issuerId || m[3] !== letter) return null;
  const n = Number(m[4]);
  return Number.isSafeInteger(n) ? { projectId: m[2], id: n } : null;
}

/** The pass behind an object id of this issuer, or null for anything else (another issuer, a foreign id). */
export function parseGoogleObjectId(objectId: unknown, issuerId: string): { projectId: string; passId: number } | null {
  const p = parse(objectId, issuerId, "p");
  return p && { projectId: p.projectId, passId: p.id };
}

/** The template behind a class id of this issuer, or null. */
export function parseGoogleClassId(classId: unknown, issuerId: string): { projectId: string; templateId: number } | null {
  const p = parse(classId, issuerId, "t");
  return p && { projectId: p.projectId, templateId: p.id };
}
