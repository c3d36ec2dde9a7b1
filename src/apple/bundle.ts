/**
 * @module apple/bundle
 * The signed .pkpass of one pass as it is now, and when it last changed. The one place that puts the
 * pieces together: the stored design, the pass's values, the project's identity and signer (parsed
 * once per isolate per credential version), the template's images (read only here), and
 * personalization.json while the holder has not signed up (§1.6).
 *
 * Last-Modified (§1.4) is an HTTP date, whole seconds. A pass's last change is the latest of its row,
 * its template, the template's images and its personalization. Two changes in one second, or a change
 * whose time was taken before a read but committed after it, would hide behind a date the device
 * already has; so the header never says a time later than a minute before the answer (`httpLastModified`):
 * right after a change a repeated fetch gets the pass again (a 200 Wallet shrugs at), never a wrong 304.
 */
import type { FieldDef, PassRecord, PassStatus, TemplateRecord } from "../db/schema";
import { getDb } from "../db/client";
import { passExtras } from "../db/queries/apple-templates";
import type { WalletPass } from "../passes";
import { appleAuthToken } from "./auth-token";
import { webServiceUrl } from "./config";
import { signerMaterial, type AppleCredentials } from "./credentials";
import { imageBaseOf, passStyleOf, STYLE_IMAGES, type TemplatePassType } from "./design";
import { bundleImages } from "./images";
import { buildPassJson } from "./pass-json";
import { buildPkpass, loadSigner } from "./pkpass";
import { storedDesign } from "./template-design";

export const PKPASS_TYPE = "application/vnd.apple.pkpass";
/** How long after a read a change stamped before it may still commit (D1 round trips, queue hops). */
export const COMMIT_LAG_MS = 60_000;

export interface PassState {
  /** ms: the latest change a device can see in the bundle. */
  lastModified: number;
  personalized: boolean;
}

/** When the pass's bundle last changed, and whether the holder has signed up. */
export async function passState(env: Pick<Env, "DB">, wp: WalletPass): Promise<PassState> {
  const extras = await passExtras(getDb(env.DB), wp.pass.id, wp.template.id);
  return {
    lastModified: Math.max(wp.pass.updatedAt, wp.template.updatedAt, extras.imagesChangedAt, extras.personalizedAt ?? 0),
    personalized: extras.personalizedAt !== null,
  };
}

/** The whole second to put in Last-Modified: the change's, but never within COMMIT_LAG_MS of `now`. */
export function httpLastModified(lastModified: number, now: number): number {
  return Math.min(Math.floor(lastModified / 1000), Math.floor((now - COMMIT_LAG_MS) / 1000) - 1);
}

/** 304 only when the device's date is at or past the second of the pass's last change. */
export function notModifiedSince(ifModifiedSince: string | undefined, lastModified: number): boolean {
  if (!ifModifiedSince) return false;
  const since = Date.parse(ifModifiedSince);
  return Number.isFinite(since) && Math.floor(lastModified / 1000) <= Math.floor(since / 1000);
}

/** The signed bundle of `wp` as it is now. */
export async function buildBundle(env: Pick<Env, "DB" | "MASTER_KEY" | "PUBLIC_URL">, wp: WalletPass, creds: AppleCredentials, state: PassState, now: number): Promise<Uint8Array> {
  const design = storedDesign(wp.template);
  const passType = wp.template.passType as TemplatePassType;
  const passJson = buildPassJson({
    template: { name: wp.template.name, passType, fields: wp.template.fields as FieldDef[], design },
    pass: passInput(wp.pass),
    identity: { passTypeIdentifier: creds.secret.passTypeIdentifier, teamIdentifier: creds.secret.teamIdentifier, organizationName: creds.secret.organizationName },
    webServiceURL: webServiceUrl(env),
    authenticationToken: await appleAuthToken(env, wp.pass.serialNumber),
    now,
  });
  const [images, signer] = await Promise.all([styleImages(env, wp.template), loadSigner(signerMaterial(creds))]);
  const personalization = design.personalization && !state.personalized ? design.personalization : null;
  return (await buildPkpass({ passJson, images, personalization, signer, now })).bytes;
}

function passInput(p: PassRecord) {
  return { serialNumber: p.serialNumber, status: p.status as PassStatus, fields: p.fields, updatedAt: p.updatedAt, archivedAt: p.archivedAt };
}

/** Stored images the template's style shows (a template whose type changed may hold others). */
async function styleImages(env: Pick<Env, "DB">, template: TemplateRecord): Promise<Record<string, Uint8Array>> {
  const shown = new Set<string>([...STYLE_IMAGES[passStyleOf(template.passType as TemplatePassType)], "personalizationLogo"]);
  const all = await bundleImages(env, template.id);
  return Object.fromEntries(Object.entries(all).filter(([name]) => shown.has(imageBaseOf(name) ?? "")));
}
