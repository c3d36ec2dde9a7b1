/**
 * @module apple/config
 * What the Apple edge reads from the Worker's configuration, resolved in one place: PUBLIC_URL (the
 * base of every pass's webServiceURL, which must never change once a pass is out, so wallet work does
 * not fall back to a request's origin), whether APNs hosts other than Apple's are allowed, and the
 * APNs transport (the Worker's own fetch, or tools/apns-relay when APNS_RELAY_URL is set).
 */
import { AppError } from "../lib/errors";
import { fetchTransport, relayTransport, type ApnsTransport } from "./apns-transport";
import { appleWebServiceURL } from "./pass-json";

/** The optional secret of the relay is not a declared binding (wrangler's `secrets.required`). */
export type AppleEnv = Env & { APNS_RELAY_SECRET?: string };

export const PUBLIC_URL_MISSING =
  "PUBLIC_URL is not set: Apple passes need a fixed public base URL for their webServiceURL and download links. Set PUBLIC_URL in wrangler.toml [vars] (locally in .dev.vars).";

/** PUBLIC_URL without a trailing slash; throws a clear 500 when it is not set. */
export function publicUrl(env: Pick<Env, "PUBLIC_URL">): string {
  const url = (env.PUBLIC_URL ?? "").trim().replace(/\/+$/, "");
  if (!url) throw new AppError("internal", PUBLIC_URL_MISSING);
  return url;
}

/** `{PUBLIC_URL}/apple`: what every pass carries as its webServiceURL (api.md "Wallets"). */
export function webServiceUrl(env: Pick<Env, "PUBLIC_URL">): string {
  return appleWebServiceURL(publicUrl(env));
}

/** Whether APNs hosts other than Apple's two are allowed (wrangler.toml ALLOW_CUSTOM_APNS_HOST; development only). */
export function allowCustomApnsHost(env: Pick<Env, "ALLOW_CUSTOM_APNS_HOST">): boolean {
  return env.ALLOW_CUSTOM_APNS_HOST === "true";
}

let cached: { key: string; transport: ApnsTransport } | null = null;

/** The APNs transport the configuration asks for, built once per isolate and configuration. */
export function apnsTransport(env: Pick<AppleEnv, "APNS_RELAY_URL" | "APNS_RELAY_SECRET">): ApnsTransport {
  const url = (env.APNS_RELAY_URL ?? "").trim();
  const key = `${url}\u0000${env.APNS_RELAY_SECRET ?? ""}`;
  if (cached?.key === key) return cached.transport;
  let transport: ApnsTransport;
  if (url) {
    if (!env.APNS_RELAY_SECRET) throw new Error("APNS_RELAY_URL is set but the secret APNS_RELAY_SECRET is not (wrangler secret put APNS_RELAY_SECRET)");
    transport = relayTransport({ url, secret: env.APNS_RELAY_SECRET });
  } else {
    transport = fetchTransport();
  }
  cached = { key, transport };
  return transport;
}
