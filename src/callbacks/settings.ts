/**
 * @module callbacks/settings
 * The project's one callback server (Airship's "Callback Specification": `{baseUrl, headers}`). The
 * URL passes the SSRF policy, the headers the header policy; header values and the `whsec_` signing
 * secret are stored encrypted under MASTER_KEY and never shown again (values are masked on read).
 * Rotating the secret keeps the old one signing for 24 hours (Standard Webhooks rotation).
 */
import { getDb } from "../db/client";
import { deleteCallbackSettings, findCallbackSettings, updateCallbackSettings, upsertCallbackSettings } from "../db/queries/callbacks";
import type { CallbackSettingsRecord } from "../db/schema";
import { decryptSecret, encryptSecret } from "../lib/crypto";
import { notFound, validationError, type FieldIssue } from "../lib/errors";
import { DAY, isoOrNull, iso } from "../lib/time";
import { checkCallbackHeaders } from "./header-policy";
import { newSigningSecret } from "./signing";
import { checkCallbackUrl } from "./url-policy";

export type SettingsEnv = Pick<Env, "DB" | "MASTER_KEY" | "ALLOW_INSECURE_CALLBACKS">;
export const SECRET_OVERLAP = DAY;

const headersContext = (projectId: string) => `callback-headers:${projectId}`;
const secretContext = (projectId: string) => `callback-secret:${projectId}`;

/** Shows enough of a header value to recognise it, never the credential itself. */
export function maskValue(v: string): string {
  return v.length > 12 ? `${v.slice(0, 4)}****` : "****";
}

function maskAll(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, maskValue(v)]));
}

export async function decryptHeaders(env: Pick<Env, "MASTER_KEY">, row: CallbackSettingsRecord): Promise<Record<string, string>> {
  return JSON.parse(await decryptSecret(env.MASTER_KEY, row.headersEnc, headersContext(row.projectId)));
}

/** The secrets that sign now: the current one, and the previous one during its 24 h overlap. */
export async function signingSecrets(env: Pick<Env, "MASTER_KEY">, row: CallbackSettingsRecord, now: number): Promise<string[]> {
  const out = [await decryptSecret(env.MASTER_KEY, row.secretEnc, secretContext(row.projectId))];
  if (row.previousSecretEnc && row.previousSecretExpiresAt && row.previousSecretExpiresAt > now) {
    out.push(await decryptSecret(env.MASTER_KEY, row.previousSecretEnc, secretContext(row.projectId)));
  }
  return out;
}

async function view(env: SettingsEnv, row: CallbackSettingsRecord) {
  return {
    baseUrl: row.baseUrl,
    headers: maskAll(await decryptHeaders(env, row)),
    enabled: row.disabledAt == null,
    disabledAt: isoOrNull(row.disabledAt),
    disabledReason: row.disabledReason,
    previousSecretExpiresAt: row.previousSecretExpiresAt && row.previousSecretExpiresAt > Date.now() ? iso(row.previousSecretExpiresAt) : null,
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  };
}

/**
 * Registers (or replaces) the callback server. Re-registering keeps the signing secret and enables a
 * registration that a 410 disabled; the secret is returned only when it is new.
 */
export async function registerCallback(env: SettingsEnv, projectId: string, input: { baseUrl: string; headers?: Record<string, unknown> }, now = Date.now()) {
  const issues: FieldIssue[] = [];
  const url = checkCallbackUrl(input.baseUrl, { allowInsecureLocal: env.ALLOW_INSECURE_CALLBACKS === "true" });
  if (!url.ok) issues.push({ path: "baseUrl", message: url.error.message });
  const headers = checkCallbackHeaders(input.headers);
  if (!headers.ok) issues.push(...headers.error);
  if (!url.ok || !headers.ok) throw validationError(issues, "The callback specification is invalid.");

  const db = getDb(env.DB);
  const existing = await findCallbackSettings(db, projectId);
  const secret = existing ? null : newSigningSecret();
  const secretEnc = secret ? await encryptSecret(env.MASTER_KEY, secret, secretContext(projectId)) : existing!.secretEnc;
  const headersEnc = await encryptSecret(env.MASTER_KEY, JSON.stringify(headers.value), headersContext(projectId));
  await upsertCallbackSettings(db, {
    projectId,
    baseUrl: url.value,
    headersEnc,
    secretEnc,
    previousSecretEnc: existing?.previousSecretEnc ?? null,
    previousSecretExpiresAt: existing?.previousSecretExpiresAt ?? null,
    disabledAt: null,
    disabledReason: null,
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
  });
  const row = (await findCallbackSettings(db, projectId))!;
  // Two first registrations at once: only the one whose secret was stored may show it.
  const stored = secret !== null && row.secretEnc === secretEnc;
  return { ...(await view(env, row)), ...(stored ? { signingSecret: secret } : {}) };
}

export async function getCallback(env: SettingsEnv, projectId: string) {
  const row = await findCallbackSettings(getDb(env.DB), projectId);
  if (!row) throw notFound("Callback registration");
  return view(env, row);
}

export async function deleteCallback(env: SettingsEnv, projectId: string): Promise<void> {
  if (!(await deleteCallbackSettings(getDb(env.DB), projectId))) throw notFound("Callback registration");
}

/** Issues a new signing secret; the old one keeps signing (alongside) for 24 hours. */
export async function rotateCallbackSecret(env: SettingsEnv, projectId: string, now = Date.now()) {
  const db = getDb(env.DB);
  const row = await findCallbackSettings(db, projectId);
  if (!row) throw notFound("Callback registration");
  const secret = newSigningSecret();
  await updateCallbackSettings(db, projectId, {
    secretEnc: await encryptSecret(env.MASTER_KEY, secret, secretContext(projectId)),
    previousSecretEnc: row.secretEnc,
    previousSecretExpiresAt: now + SECRET_OVERLAP,
    updatedAt: now,
  });
  return { signingSecret: secret, previousSecretExpiresAt: iso(now + SECRET_OVERLAP) };
}

/** A 410 from the server: stop sending until the project registers again. */
export async function disableCallback(env: Pick<Env, "DB">, projectId: string, reason: string, now = Date.now()): Promise<void> {
  await updateCallbackSettings(getDb(env.DB), projectId, { disabledAt: now, disabledReason: reason, updatedAt: now });
}
