/**
 * @module app
 * Builds the Hono app: health, the admin API, the listener, the dashboard and holder pages, and the
 * one `onError` that shapes every API error as `{error: {code, message, details}}` (the dashboard
 * renders its own errors as HTML). Unknown errors are logged (without request data) and answered with
 * a generic 500 that says nothing about what failed. Each request leaves one log line with its path
 * redacted, in place of Cloudflare's invocation log (off in wrangler.toml: it records the full URL,
 * and listener and holder-page URLs are credentials).
 */
import { Hono, type Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { buildApi } from "./api";
import { openApiDocument } from "./api";
import { dashboardApp, type DashboardOptions } from "./dashboard";
import type { AppEnv } from "./env";
import { AppError } from "./lib/errors";
import { describeError } from "./lib/log";

/** `dashboard.holderWallets` tells the holder page which wallet buttons a project has (default: its stored credentials). */
export function buildApp(routers: { api?: Hono<AppEnv>[]; root?: Hono<AppEnv>[]; dashboard?: DashboardOptions } = {}): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use(async (c, next) => {
    const started = Date.now();
    await next();
    if (c.env.REQUEST_LOG !== "false") {
      console.log(JSON.stringify({ msg: "request", method: c.req.method, path: redactPath(c.req.path), status: c.res.status, ms: Date.now() - started }));
    }
  });
  app.get("/health", (c) => c.json({ ok: true }));
  app.get("/openapi.json", (c) => c.json(openApiDocument()));
  for (const r of routers.root ?? []) app.route("/", r);
  app.route("/", dashboardApp(routers.dashboard));
  app.route("/", buildApi(routers.api ?? []));

  app.notFound((c) => {
    const allowed = allowedMethods(app, c.req.path);
    // A path that the request's own method serves would have matched: nothing here is "not allowed".
    if (allowed.length && !allowed.includes(c.req.method)) {
      return errorResponse(c, new AppError("method_not_allowed", `Use ${allowed.join(", ")} on this path.`, { allowed }, { Allow: allowed.join(", ") }));
    }
    return errorResponse(c, new AppError("not_found", "No such route."));
  });

  app.onError((e, c) => {
    if (e instanceof AppError) return errorResponse(c, e);
    if (e instanceof HTTPException && e.status < 500) {
      const code = e.status === 413 ? "payload_too_large" : e.status === 401 ? "unauthorized" : "bad_request";
      return errorResponse(c, new AppError(code, e.message || "Bad request."));
    }
    console.error(JSON.stringify({ msg: "unhandled error", method: c.req.method, path: redactPath(c.req.path), error: describeError(e) }));
    return c.json({ error: { code: "internal", message: "Internal error.", details: null } }, 500);
  });
  return app;
}

function errorResponse(c: Context, e: AppError): Response {
  for (const [k, v] of Object.entries(e.headers)) c.header(k, v);
  return c.json(e.toBody(), e.status);
}

/**
 * Listener and holder-page paths carry their token, which is a credential: whatever follows a `hooks`
 * or `p` segment is redacted, in any letter case and after any number of slashes, matched or not. An
 * Apple device library id is the secret of its serial list: the segment after `devices` goes too.
 */
export function redactPath(path: string): string {
  return path.replace(/(^|\/)(hooks|p)\/.*$/is, "$1$2/[redacted]").replace(/(\/devices\/)[^/]*/gi, "$1[redacted]");
}

// --- 405: which methods would have matched this path ----------------------------------------------

const patternCache = new WeakMap<Hono<AppEnv>, { re: RegExp; method: string }[]>();

/** Methods served on exactly this path (no trailing-slash variants: `/health/` is not `/health`). */
function allowedMethods(app: Hono<AppEnv>, path: string): string[] {
  let patterns = patternCache.get(app);
  if (!patterns) {
    patterns = app.routes
      .filter((r) => r.method !== "ALL" && !r.path.includes("*"))
      .map((r) => ({ method: r.method, re: new RegExp(`^${r.path.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/:[^/]+/g, "[^/]+")}$`) }));
    patternCache.set(app, patterns);
  }
  return [...new Set(patterns.filter((p) => p.re.test(path)).map((p) => p.method))];
}
