/**
 * @module google/wallet-api
 * A thin Google Wallet REST client (GOOGLE_WALLET_API_URL, by default
 * https://walletobjects.googleapis.com/walletobjects/v1; google-wallet.md §2): get, insert, update
 * and patch of classes and objects, addMessage and list, plus the idempotent upserts the issue
 * asks for (class: insert, 409 -> update; object: insert, 409 -> patch). One request at a time,
 * never a fan-out: concurrency is the caller's business (6 outbound connections per invocation,
 * 20 requests/s per issuer).
 *
 * Every answer becomes a tagged outcome (classifyResponse, pure): 2xx ok, 404 not_found, 409
 * exists, 429/5xx/network retryable (with Retry-After), 401 retried once with a fresh token, any
 * other 4xx failed with Google's own `error.message`. Nothing throws for an HTTP answer.
 */
import { HOUR, SECOND } from "../lib/time";
import { getAccessToken, GoogleAuthError, invalidateAccessToken, type ServiceAccountKey } from "./auth";
import type { Body } from "./body-parts";
import { RESOURCE_NAMES, type GoogleResource } from "./resources";

/** Google's recommended client timeout (FAQ: p99 about 5 s). */
export const REQUEST_TIMEOUT_MS = 10 * SECOND;
/** A Retry-After longer than this is clamped (queue delays top out at 24 h anyway). */
export const RETRY_AFTER_CAP_SECONDS = 6 * 3600;

export type GoogleOutcome =
  | { kind: "ok"; status: number; body: Body | null; op?: "inserted" | "updated" }
  | { kind: "not_found"; status: 404; message: string }
  | { kind: "exists"; status: 409; message: string }
  | { kind: "unauthorized"; status: 401; message: string }
  | { kind: "retryable"; status: number | null; message: string; retryAfterSeconds: number | null }
  | { kind: "failed"; status: number | null; message: string; reason: string | null };

/**
 * Google's error body: `{"error": {"code", "message", "status", "errors": [{"reason", "message"}]}}`.
 * Returns its message (bounded) and machine reason, falling back to the HTTP status.
 */
export function googleError(status: number, bodyText: string): { message: string; reason: string | null } {
  let e: Record<string, unknown> | null = null;
  try {
    const parsed = JSON.parse(bodyText);
    if (parsed && typeof parsed.error === "object" && parsed.error) e = parsed.error;
  } catch {
    /* not JSON */
  }
  const message = typeof e?.message === "string" && e.message ? e.message.slice(0, 500) : `HTTP ${status}`;
  const first = Array.isArray(e?.errors) ? (e!.errors as Record<string, unknown>[])[0] : undefined;
  const reason = typeof first?.reason === "string" ? first.reason : typeof e?.status === "string" ? e.status : null;
  return { message, reason };
}

/** `Retry-After` as seconds (delta-seconds or an HTTP date), clamped, or null. */
export function retryAfterSeconds(value: string | null, now: number): number | null {
  if (value == null) return null;
  const v = value.trim();
  let seconds: number | null = null;
  if (/^\d{1,10}$/.test(v)) seconds = Number(v);
  else if (/^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(v)) {
    const at = Date.parse(v);
    if (!Number.isNaN(at)) seconds = Math.max(0, Math.ceil((at - now) / 1000));
  }
  return seconds === null ? null : Math.min(seconds, RETRY_AFTER_CAP_SECONDS);
}

/** Classifies one HTTP answer from the Wallet API. Pure. */
export function classifyResponse(status: number, headers: Headers, bodyText: string, now: number): GoogleOutcome {
  if (status >= 200 && status < 300) {
    let body: Body | null = null;
    try {
      const parsed = bodyText ? JSON.parse(bodyText) : null;
      body = parsed && typeof parsed === "object" && !Array.isArray(parsed) ? parsed : null;
    } catch {
      body = null;
    }
    return { kind: "ok", status, body };
  }
  const { message, reason } = googleError(status, bodyText);
  if (status === 404) return { kind: "not_found", status, message };
  if (status === 409) return { kind: "exists", status, message };
  if (status === 401) return { kind: "unauthorized", status, message };
  if (status === 429 || status >= 500) return { kind: "retryable", status, message, retryAfterSeconds: retryAfterSeconds(headers.get("retry-after"), now) };
  return { kind: "failed", status, message, reason };
}

/**
 * Seconds before retry number `attempt` (1-based) of a retryable outcome: 10 s doubling to 1 h,
 * ±20 % jitter, never sooner than Google's Retry-After. `random` in [0, 1).
 */
export function retryDelaySeconds(attempt: number, retryAfter: number | null, random: number): number {
  const base = Math.min(HOUR / SECOND, 10 * 2 ** Math.max(0, Math.min(attempt, 20) - 1));
  const jittered = Math.round(base * (0.8 + 0.4 * random));
  return Math.max(jittered, retryAfter ?? 0);
}

export interface WalletClientOptions {
  /** GOOGLE_WALLET_API_URL, without a trailing slash. */
  baseUrl: string;
  /** GOOGLE_OAUTH_TOKEN_URL. */
  tokenUrl: string;
  account: ServiceAccountKey;
  now: () => number;
  fetch?: typeof fetch;
}

export interface ListPage {
  resources: Body[];
  nextPageToken: string | null;
}

export function walletClient(opts: WalletClientOptions) {
  const base = opts.baseUrl.replace(/\/+$/, "");
  const doFetch = opts.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));

  async function call(method: string, path: string, body?: Body, retried = false): Promise<GoogleOutcome> {
    let token: string;
    try {
      token = await getAccessToken(opts.account, { tokenUrl: opts.tokenUrl, now: opts.now(), fetch: opts.fetch });
    } catch (e) {
      if (!(e instanceof GoogleAuthError)) throw e;
      return e.retryable
        ? { kind: "retryable", status: e.status, message: e.message, retryAfterSeconds: null }
        : { kind: "failed", status: e.status, message: e.message, reason: "auth" };
    }
    let res: Response;
    try {
      res = await doFetch(`${base}/${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, accept: "application/json", ...(body ? { "content-type": "application/json" } : {}) },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (e) {
      return { kind: "retryable", status: null, message: `Wallet API unreachable: ${(e as Error).name}`, retryAfterSeconds: null };
    }
    const outcome = classifyResponse(res.status, res.headers, await res.text().catch(() => ""), opts.now());
    if (outcome.kind === "unauthorized") {
      // A revoked or expired token: drop it and try once more with a fresh one.
      invalidateAccessToken(opts.account, opts.tokenUrl);
      if (!retried) return call(method, path, body, true);
      return { kind: "failed", status: 401, message: outcome.message, reason: "unauthorized" };
    }
    return outcome;
  }

  const names = (r: GoogleResource) => RESOURCE_NAMES[r];
  const enc = encodeURIComponent;

  return {
    getClass: (r: GoogleResource, id: string) => call("GET", `${names(r).classPath}/${enc(id)}`),
    insertClass: (r: GoogleResource, body: Body) => call("POST", names(r).classPath, body),
    updateClass: (r: GoogleResource, id: string, body: Body) => call("PUT", `${names(r).classPath}/${enc(id)}`, body),
    patchClass: (r: GoogleResource, id: string, body: Body) => call("PATCH", `${names(r).classPath}/${enc(id)}`, body),
    getObject: (r: GoogleResource, id: string) => call("GET", `${names(r).objectPath}/${enc(id)}`),
    insertObject: (r: GoogleResource, body: Body) => call("POST", names(r).objectPath, body),
    patchObject: (r: GoogleResource, id: string, body: Body) => call("PATCH", `${names(r).objectPath}/${enc(id)}`, body),
    addObjectMessage: (r: GoogleResource, id: string, message: Body) => call("POST", `${names(r).objectPath}/${enc(id)}/addMessage`, { message }),

    /** One page of a class's objects (`list` with `classId`, `maxResults`, `token`). */
    async listObjects(r: GoogleResource, classId: string, page: { maxResults: number; token?: string }): Promise<GoogleOutcome & { page?: ListPage }> {
      const q = new URLSearchParams({ classId, maxResults: String(page.maxResults) });
      if (page.token) q.set("token", page.token);
      const out = await call("GET", `${names(r).objectPath}?${q}`);
      if (out.kind !== "ok") return out;
      const resources = Array.isArray(out.body?.resources) ? (out.body!.resources as Body[]) : [];
      const pagination = out.body?.pagination as { nextPageToken?: unknown } | undefined;
      return { ...out, page: { resources, nextPageToken: typeof pagination?.nextPageToken === "string" ? pagination.nextPageToken : null } };
    },

    /** Writes a template's class: insert, and on 409 a full update (PUT), since the body is the whole class. */
    async upsertClass(r: GoogleResource, body: Body): Promise<GoogleOutcome> {
      const inserted = await call("POST", names(r).classPath, body);
      if (inserted.kind === "ok") return { ...inserted, op: "inserted" };
      if (inserted.kind !== "exists") return inserted;
      const updated = await call("PUT", `${names(r).classPath}/${enc(String(body.id))}`, body);
      return updated.kind === "ok" ? { ...updated, op: "updated" } : updated;
    },

    /** Writes a pass's object: insert, and on 409 a PATCH with `patch` (see updates.ts patchBody). */
    async upsertObject(r: GoogleResource, object: Body, patch: Body): Promise<GoogleOutcome> {
      const inserted = await call("POST", names(r).objectPath, object);
      if (inserted.kind === "ok") return { ...inserted, op: "inserted" };
      if (inserted.kind !== "exists") return inserted;
      const patched = await call("PATCH", `${names(r).objectPath}/${enc(String(object.id))}`, patch);
      return patched.kind === "ok" ? { ...patched, op: "updated" } : patched;
    },
  };
}

export type WalletClient = ReturnType<typeof walletClient>;

/** Whether a fetched object has been saved by anyone (`hasUsers`, set by Google). */
export function objectHasUsers(object: Body | null): boolean {
  return object?.hasUsers === true;
}
