/**
 * @module google/account
 * What every Google verb needs about a project, loaded once per use: its decrypted credentials
 * (through the shared store's 60-second cache), the service account as the token and REST code
 * want it (the store's `version` is the key version, so a re-saved key is re-imported), the
 * endpoints from the wrangler vars, and the body-building context (issuer name, callback URL and
 * default logo under PUBLIC_URL).
 */
import { getProject, loadWalletCredentials } from "../projects";
import type { ServiceAccountKey } from "./auth";
import type { BuildContext } from "./body-parts";
import { googleConfig, type GoogleConfig } from "./config";
import type { GoogleCredentialsSecret } from "./credentials-check";
import { walletClient, type WalletClient } from "./wallet-api";

export type GoogleEnv = Pick<Env, "DB" | "MASTER_KEY" | "PUBLIC_URL" | "GOOGLE_WALLET_API_URL" | "GOOGLE_OAUTH_TOKEN_URL" | "GOOGLE_CALLBACK_KEYS_URL" | "GOOGLE_CALLBACK_SENDER_ID">;

export interface GoogleAccount {
  projectId: string;
  secret: GoogleCredentialsSecret;
  serviceAccount: ServiceAccountKey;
  config: GoogleConfig;
}

/** The project's Google account, or null when it has no Google credentials. */
export async function googleAccount(env: GoogleEnv, projectId: string): Promise<GoogleAccount | null> {
  const creds = await loadWalletCredentials<GoogleCredentialsSecret>(env, projectId, "google");
  if (!creds) return null;
  const s = creds.secret;
  return {
    projectId,
    secret: s,
    serviceAccount: { issuerId: s.issuerId, serviceAccountEmail: s.serviceAccountEmail, privateKeyPem: s.privateKeyPem, keyVersion: creds.version },
    config: googleConfig(env),
  };
}

export function clientFor(account: GoogleAccount, now: () => number = Date.now): WalletClient {
  return walletClient({ baseUrl: account.config.walletApiUrl, tokenUrl: account.config.tokenUrl, account: account.serviceAccount, now });
}

/** PUBLIC_URL without a trailing slash, or null when it is not set (queue consumers have no request origin). */
export function publicBase(env: Pick<Env, "PUBLIC_URL">): string | null {
  const u = (env.PUBLIC_URL ?? "").trim().replace(/\/+$/, "");
  return u === "" ? null : u;
}

export const MISSING_PUBLIC_URL =
  "PUBLIC_URL is not set: Google classes carry {PUBLIC_URL}/google/callback as their callback URL and a logo under it; set PUBLIC_URL in wrangler.toml [vars] (locally .dev.vars)";

/** Where the default program logo is served (public/static/google/default-logo.png). */
export const DEFAULT_LOGO_PATH = "/static/google/default-logo.png";

/**
 * The context the class and object builders need; `base` is PUBLIC_URL. Objects do not use the
 * URLs (only classes do, and class pushes require PUBLIC_URL), so a save link works without it.
 */
export async function buildContext(env: Pick<Env, "DB">, account: GoogleAccount, base: string | null): Promise<BuildContext> {
  const project = await getProject(env, account.projectId);
  return {
    issuerId: account.secret.issuerId,
    projectId: account.projectId,
    issuerName: project.name.slice(0, 60),
    defaultLogoUri: `${base ?? ""}${DEFAULT_LOGO_PATH}`,
    callbackUrl: base ? `${base}/google/callback` : undefined,
  };
}
