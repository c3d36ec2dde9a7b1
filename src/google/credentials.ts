/**
 * @module google/credentials
 * `PUT /v1/project/{projectId}/credentials/google` (api.md "Wallet credentials"): checks the
 * issuer id, service account and key (credentials-check.ts), stores them encrypted in the shared
 * store, and answers the summary (never key material). Then every template of the project is asked
 * to write its class, so classes exist before the first save link. When the issuer id changed,
 * nothing of the project exists under the new issuer: the inserted markers are forgotten, so the
 * next pushes insert instead of patching.
 */
import { getDb } from "../db/client";
import { forgetInsertedForProject } from "../db/queries/google";
import { validationError, type FieldIssue } from "../lib/errors";
import { createLimiter, OUTBOUND_CONNECTIONS } from "../lib/limit";
import { listTemplates, requestWalletPush, templateSubject } from "../passes";
import { loadWalletCredentials, saveWalletCredentials } from "../projects";
import { checkGoogleCredentials, type GoogleCredentialsInput, type GoogleCredentialsSecret } from "./credentials-check";

const KEYS = new Set(["issuerId", "serviceAccountEmail", "privateKeyPem", "origins"]);

type CredEnv = Pick<Env, "DB" | "MASTER_KEY" | "GOOGLE_QUEUE">;

export async function saveGoogleCredentials(env: CredEnv, projectId: string, body: unknown, now = Date.now()) {
  if (!body || typeof body !== "object" || Array.isArray(body)) throw validationError([{ path: "(body)", message: "must be an object" }]);
  const unknown: FieldIssue[] = Object.keys(body)
    .filter((k) => !KEYS.has(k))
    .map((k) => ({ path: k, message: "is not a Google credentials field" }));
  const checked = await checkGoogleCredentials(body as GoogleCredentialsInput);
  if (!checked.ok || unknown.length) throw validationError([...unknown, ...(checked.ok ? [] : checked.error)], "The Google credentials are invalid.");

  const previous = await loadWalletCredentials<GoogleCredentialsSecret>(env, projectId, "google", now);
  const summary = await saveWalletCredentials(env, projectId, "google", { secret: checked.value.secret, summary: { ...checked.value.summary } }, now);
  if (previous && previous.secret.issuerId !== checked.value.secret.issuerId) await forgetInsertedForProject(getDb(env.DB), projectId, now);

  const limit = createLimiter(OUTBOUND_CONNECTIONS);
  const templates = await listTemplates({ env, projectId });
  await Promise.all(
    templates.map((t) => limit(() => requestWalletPush(env, env.GOOGLE_QUEUE, { wallet: "google", subject: templateSubject(t.id), projectId, wantedAt: now }, now))),
  );
  return summary;
}
