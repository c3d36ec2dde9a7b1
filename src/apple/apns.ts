/**
 * @module apple/apns
 * What a pass-update push is and what APNs's answer means (apple-wallet.md §5): the request for one
 * device (`buildPushRequest`) and the pure classification of a response (`classifyApnsResponse`) into
 * the one thing the push consumer should do next. Sending is apns-transport.ts; tokens apns-token.ts.
 */
import { ApnsTransportError } from "./apns-transport";

export interface ApnsRequest {
  /** APNs base URL, e.g. https://api.push.apple.com (no trailing slash). */
  host: string;
  deviceToken: string;
  topic: string;
  jwt: string;
  payload: string;
  /** apns-* and content-type headers; `authorization` is made from `jwt` by the transport. */
  headers: Record<string, string>;
}

export interface ApnsResponse {
  status: number;
  body: string;
  apnsId: string | null;
}

export interface PushOptions {
  /** §5.1: unverified for passes; keep configurable. Default background / 5. */
  pushType?: "background" | "alert";
  priority?: 5 | 10;
  /** Seconds APNs keeps the push for an offline device; 0 = try once. Default one day. */
  expirationSeconds?: number;
}

/** A push token is hex (Apple's are 64 characters today; allow longer). Anything else never reaches a URL. */
export const DEVICE_TOKEN = /^[0-9a-fA-F]{16,200}$/;

/**
 * The push that tells one device "a pass of this type changed" (§5.1): body `{}`, topic = pass type id.
 * Throws on a malformed device token (registration should have refused it).
 */
export function buildPushRequest(input: {
  host: string;
  deviceToken: string;
  passTypeIdentifier: string;
  jwt: string;
  now: number;
  options?: PushOptions;
}): ApnsRequest {
  if (!DEVICE_TOKEN.test(input.deviceToken)) throw new Error("malformed APNs device token");
  const o = input.options ?? {};
  const expiration = o.expirationSeconds ?? 86_400;
  return {
    host: input.host.replace(/\/+$/, ""),
    deviceToken: input.deviceToken,
    topic: input.passTypeIdentifier,
    jwt: input.jwt,
    payload: "{}",
    headers: {
      "apns-topic": input.passTypeIdentifier,
      "apns-push-type": o.pushType ?? "background",
      "apns-priority": String(o.priority ?? 5),
      "apns-expiration": String(expiration === 0 ? 0 : Math.floor(input.now / 1000) + expiration),
      "content-type": "application/json",
    },
  };
}

export type ApnsOutcome =
  | { action: "done" }
  /** `unregisteredAt` (ms): keep a registration made after it (410, §5.4). `alert`: also tell an operator. */
  | { action: "remove_registration"; reason: string; unregisteredAt?: number; alert?: boolean }
  | { action: "retry"; reason: string; delaySeconds: number }
  | { action: "refresh_token_and_retry"; reason: string }
  /** Stop pushing for this project until its credentials change. */
  | { action: "credentials_invalid"; reason: string }
  /** The path to APNs (the relay) will refuse this push however often it is sent: fail the job. */
  | { action: "refused"; reason: string }
  /** Our request was wrong: alert, do not retry. */
  | { action: "bug"; reason: string };

const RETRY_CAP_SECONDS = 3600;
export const backoffSeconds = (attempt: number, base: number) => Math.min(RETRY_CAP_SECONDS, base * 2 ** Math.min(Math.max(attempt, 0), 16));

/** `{reason, timestamp}` from an APNs error body; tolerant of anything else. */
export function parseApnsError(body: string): { reason: string; timestamp?: number } {
  try {
    const j = JSON.parse(body) as unknown;
    if (j && typeof j === "object") {
      const { reason, timestamp } = j as { reason?: unknown; timestamp?: unknown };
      return { reason: typeof reason === "string" ? reason : "", ...(typeof timestamp === "number" && Number.isFinite(timestamp) ? { timestamp } : {}) };
    }
  } catch {
    // not JSON: no reason
  }
  return { reason: "" };
}

const BAD_CREDENTIALS = new Set(["InvalidProviderToken", "MissingProviderToken", "BadCertificate", "BadCertificateEnvironment", "Forbidden"]);

/**
 * The §5.4 table. `attempt` (0 for the first send) scales the suggested backoff.
 */
export function classifyApnsResponse(status: number, body: string, attempt = 0): ApnsOutcome {
  const { reason, timestamp } = status === 200 ? { reason: "", timestamp: undefined } : parseApnsError(body);
  const why = reason || `HTTP ${status}`;
  if (status === 200) return { action: "done" };
  if (status === 400) {
    if (reason === "BadDeviceToken") return { action: "remove_registration", reason };
    // The token belongs to another topic: a certificate / pass type mix-up worth a look.
    if (reason === "DeviceTokenNotForTopic") return { action: "remove_registration", reason, alert: true };
    return { action: "bug", reason: why };
  }
  if (status === 403) {
    if (reason === "ExpiredProviderToken") return { action: "refresh_token_and_retry", reason };
    if (BAD_CREDENTIALS.has(reason)) return { action: "credentials_invalid", reason };
    return { action: "credentials_invalid", reason: why };
  }
  if (status === 410) {
    // Unregistered (and ExpiredToken on newer pages): the device is gone as of `timestamp`.
    return { action: "remove_registration", reason: why, ...(timestamp !== undefined ? { unregisteredAt: timestamp } : {}) };
  }
  if (status === 429) {
    // Too many token updates is counted per team: wait long; too many requests is per device token.
    const base = reason === "TooManyProviderTokenUpdates" ? 20 * 60 : 60;
    return { action: "retry", reason: why, delaySeconds: backoffSeconds(attempt, base) };
  }
  if (status >= 500 && status <= 599) return { action: "retry", reason: why, delaySeconds: backoffSeconds(attempt, 10) };
  // 404 BadPath, 405 MethodNotAllowed, 413 PayloadTooLarge, and anything APNs does not send.
  return { action: "bug", reason: why };
}

/**
 * A send that never got an APNs answer (timeout, connection refused, a relay refusal that may pass):
 * retry later. A relay refusal this push will always get (`relay_rejected`) fails the job.
 */
export function classifyTransportFailure(error: unknown, attempt = 0): ApnsOutcome {
  const reason = error instanceof Error ? error.message : "transport failure";
  if (error instanceof ApnsTransportError && error.failure === "relay_rejected") return { action: "refused", reason };
  return { action: "retry", reason, delaySeconds: backoffSeconds(attempt, 30) };
}
