/**
 * @module apple/apns-transport
 * How a push reaches APNs, behind one small interface. APNs speaks HTTP/2 only, and whether a deployed
 * Worker's `fetch` negotiates HTTP/2 with it is unverified (apple-wallet.md §5.5), so there are two
 * transports: `fetchTransport` (the Worker calls APNs itself) and `relayTransport` (the Worker POSTs the
 * push to tools/apns-relay, which holds an HTTP/2 session to APNs). `npm run apns:canary` tells which
 * path works. The relay protocol is HMAC-SHA256 over `{timestamp}.{body}`, stale after 5 minutes, and
 * each signed request is accepted once (tools/apns-relay/README.md).
 */
import { hmacSha256, randomBytes, toHex } from "../lib/crypto";
import type { ApnsRequest, ApnsResponse } from "./apns";

export interface ApnsTransport {
  send(req: ApnsRequest): Promise<ApnsResponse>;
}

/**
 * `relay_refused`: the relay answered itself and may accept the push later (a secret being rotated, a
 * clock, APNs unreachable from it); `relay_rejected`: it will refuse this push however often it is
 * sent (PERMANENT_RELAY_REFUSALS), so the job fails at once.
 */
export type TransportFailure = "timeout" | "network" | "relay_refused" | "relay_rejected";

/**
 * The relay's own refusals (tools/apns-relay/relay.mjs) that the same push always gets: its host is not
 * in the relay's APNS_HOSTS, or the request is malformed or too large.
 */
export const PERMANENT_RELAY_REFUSALS: ReadonlySet<string> = new Set(["host_not_allowed", "bad_request", "too_large"]);

/** No APNs answer: the push may or may not have been delivered; retrying is safe (body `{}` is idempotent). */
export class ApnsTransportError extends Error {
  constructor(
    readonly failure: TransportFailure,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = "ApnsTransportError";
  }
}

export const DEFAULT_TIMEOUT_MS = 10_000;
type Fetch = typeof fetch;

async function call(doFetch: Fetch, url: string, init: RequestInit, timeoutMs: number, what: string): Promise<Response> {
  try {
    return await doFetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    const name = e instanceof Error ? e.name : "";
    if (name === "TimeoutError" || name === "AbortError") throw new ApnsTransportError("timeout", `${what} did not answer within ${timeoutMs} ms`);
    throw new ApnsTransportError("network", `${what} could not be reached: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** The Worker's own `fetch` to `{host}/3/device/{token}` (§5.1). */
export function fetchTransport(opts: { fetch?: Fetch; timeoutMs?: number } = {}): ApnsTransport {
  return {
    async send(req) {
      const doFetch = opts.fetch ?? fetch;
      const res = await call(
        doFetch,
        `${req.host}/3/device/${req.deviceToken}`,
        { method: "POST", headers: { ...req.headers, authorization: `bearer ${req.jwt}` }, body: req.payload },
        opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        "APNs",
      );
      return { status: res.status, body: await res.text(), apnsId: res.headers.get("apns-id") };
    },
  };
}

/** The relay's `{error, message}` body's message (our own relay: a host name, a limit), clipped. */
function relayMessage(text: string): string {
  try {
    const m = (JSON.parse(text) as { message?: unknown }).message;
    return typeof m === "string" && m ? ` (${m.slice(0, 200)})` : "";
  } catch {
    return "";
  }
}

export const RELAY_TIMESTAMP_HEADER = "x-passhook-relay-timestamp";
export const RELAY_SIGNATURE_HEADER = "x-passhook-relay-signature";
/** Set by the relay on answers that are its own (bad signature, host not allowed, APNs unreachable). */
export const RELAY_ERROR_HEADER = "x-passhook-relay-error";
export const RELAY_TOLERANCE_SECONDS = 300;
export const MIN_RELAY_SECRET_LENGTH = 32;

/** `v1=<hex HMAC-SHA256(secret, "{timestamp}.{body}")>`; the relay recomputes it (tools/apns-relay). */
export async function relaySignature(secret: string, timestamp: number, body: string): Promise<string> {
  return `v1=${toHex(await hmacSha256(new TextEncoder().encode(secret), `${timestamp}.${body}`))}`;
}

/**
 * POSTs the push as JSON to the relay, signed. The relay answers with APNs's status, body and apns-id;
 * an answer the relay made itself becomes an `ApnsTransportError`, never an APNs outcome.
 */
export function relayTransport(opts: { url: string; secret: string; fetch?: Fetch; timeoutMs?: number; clock?: () => number }): ApnsTransport {
  if (opts.secret.length < MIN_RELAY_SECRET_LENGTH) throw new Error(`the relay secret must have at least ${MIN_RELAY_SECRET_LENGTH} characters`);
  return {
    async send(req) {
      // The nonce makes two identical pushes in the same second two different signed requests: the relay
      // refuses a signature it has already seen.
      const nonce = toHex(randomBytes(12));
      const body = JSON.stringify({ host: req.host, deviceToken: req.deviceToken, topic: req.topic, jwt: req.jwt, payload: req.payload, headers: req.headers, nonce });
      const timestamp = Math.floor((opts.clock ?? Date.now)() / 1000);
      const res = await call(
        opts.fetch ?? fetch,
        opts.url,
        {
          method: "POST",
          headers: {
            "content-type": "application/json",
            [RELAY_TIMESTAMP_HEADER]: String(timestamp),
            [RELAY_SIGNATURE_HEADER]: await relaySignature(opts.secret, timestamp, body),
          },
          body,
        },
        opts.timeoutMs ?? DEFAULT_TIMEOUT_MS + 2_000,
        "The APNs relay",
      );
      const text = await res.text();
      const own = res.headers.get(RELAY_ERROR_HEADER);
      if (own) {
        const failure = own === "apns_timeout" ? "timeout" : PERMANENT_RELAY_REFUSALS.has(own) ? "relay_rejected" : "relay_refused";
        throw new ApnsTransportError(failure, `APNs relay: ${own}${relayMessage(text)}`, res.status);
      }
      return { status: res.status, body: text, apnsId: res.headers.get("apns-id") };
    },
  };
}
