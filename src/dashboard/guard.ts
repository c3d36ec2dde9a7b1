/**
 * @module dashboard/guard
 * Middleware for every dashboard page: security headers, the session (sealed cookie, expiry, the API
 * key still existing), and on every POST the form body (size-limited, urlencoded only) with its
 * same-origin and CSRF-token checks. A refused POST changes nothing.
 */
import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import { createMiddleware } from "hono/factory";
import { readBodyText } from "../lib/body";
import { AppError } from "../lib/errors";
import { liveKeyShard, withShard } from "../projects";
import { isLocalRequest, type DashEnv, type ResolvedOptions } from "./context";
import { CSRF_FIELD, sameOrigin, tokenMatches } from "./csrf";
import { clearedSessionCookie, cookieName, openSession } from "./session";

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

/**
 * Pages are private (no-store) and carry tokens in their URLs and forms: no referrer to other origins
 * (`same-origin`, not `no-referrer`: with that, browsers send `Origin: null` on form posts), no framing.
 */
export const securityHeaders = createMiddleware(async (c, next) => {
  await next();
  c.header("Content-Security-Policy", CSP);
  c.header("X-Content-Type-Options", "nosniff");
  c.header("X-Frame-Options", "DENY");
  c.header("Referrer-Policy", "same-origin");
  c.header("Cache-Control", "no-store");
});

export class CsrfRefused extends Error {
  constructor(readonly reason: "cross_site" | "bad_token") {
    super(`CSRF check failed: ${reason}`);
  }
}

/** Reads a urlencoded form body (256 KiB at most) into `form`. */
/** Reads a POST's form once (later calls get the same one). */
async function formOf(c: Context<DashEnv>): Promise<URLSearchParams> {
  const read = c.get("form");
  if (read) return read;
  const mime = (c.req.header("content-type") ?? "").split(";")[0].trim().toLowerCase();
  if (mime !== "application/x-www-form-urlencoded") {
    throw new AppError("unsupported_media_type", "Dashboard forms are sent as application/x-www-form-urlencoded.");
  }
  const form = new URLSearchParams(await readBodyText(c.req.raw));
  c.set("form", form);
  return form;
}

export const formBody = createMiddleware<DashEnv>(async (c, next) => {
  if (c.req.method === "POST") await formOf(c);
  await next();
});

export function requireSession(opts: ResolvedOptions) {
  return createMiddleware<DashEnv>(async (c, next) => {
    const secure = !isLocalRequest(c.req.url);
    const opened = await openSession(c.env, getCookie(c, cookieName(secure)), opts.now());
    let reason: string | null = opened.ok ? null : opened.error.reason;
    const shard = opened.ok ? await liveKeyShard(c.env, opened.value.projectId, opened.value.key) : null;
    if (opened.ok && shard === null) reason = "revoked";
    if (reason !== null || !opened.ok) {
      console.log(JSON.stringify({ msg: "dashboard session refused", reason, path: c.req.path }));
      if (reason !== "missing") c.header("Set-Cookie", clearedSessionCookie(secure), { append: true });
      const query = reason === "expired" || reason === "revoked" ? `?reason=${reason}` : "";
      return c.redirect(`/dashboard/sign-in${query}`, 303);
    }
    const session = opened.value;
    if (c.req.method === "POST") {
      // The body is read only now, after the session was checked: a stranger's POST costs no body read.
      if (!sameOrigin(c.req.raw)) throw new CsrfRefused("cross_site");
      if (!(await tokenMatches((await formOf(c)).get(CSRF_FIELD), session.csrf))) throw new CsrfRefused("bad_token");
    }
    c.set("session", session);
    c.set("projectId", session.projectId);
    // The pages read and write the project's own shard (db/shards.ts).
    c.env = withShard(c.env, shard ?? 0);
    await next();
  });
}
