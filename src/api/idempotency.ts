/**
 * @module api/idempotency
 * `Idempotency-Key` on admin writes (POST, PUT, PATCH, DELETE): replays the first response for 24 h.
 * The fingerprint is method + path + body, so the same key on another request is refused.
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { readBodyText } from "../lib/body";
import { sha256Hex } from "../lib/crypto";
import { AppError } from "../lib/errors";
import { logError } from "../lib/log";
import { beginIdempotent, finishIdempotent, refuseIdempotent } from "../projects";

const WRITES = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export const idempotency = createMiddleware<AppEnv>(async (c, next) => {
  const key = c.req.header("idempotency-key");
  if (!key || !WRITES.has(c.req.method)) return next();
  // Raw uploads (Apple template images, up to 1 MiB) are idempotent PUTs by nature; the fingerprint
  // below reads bodies under the 256 KiB JSON limit.
  if (c.req.header("content-type")?.toLowerCase().startsWith("image/")) return next();
  if (key.length > 255) throw new AppError("bad_request", "Idempotency-Key must be at most 255 characters.");
  const scope = c.get("projectId") ?? "operator";
  // Read a clone under the same 256 KiB limit the handler enforces; the handler reads the original.
  const body = await readBodyText(c.req.raw.clone());
  const fingerprint = await sha256Hex(`${c.req.method} ${c.req.path}\n${body}`);
  const start = await beginIdempotent(c.env, scope, key, fingerprint);
  refuseIdempotent(start, "Idempotency-Key");
  if (start.kind === "replay") {
    return new Response(start.body || null, {
      status: start.status,
      headers: { "content-type": "application/json", "idempotent-replayed": "true" },
    });
  }
  // Hono runs onError inside next(), so an error has already become c.res here.
  await next();
  try {
    await finishIdempotent(c.env, scope, key, c.res.status, c.res.status === 204 ? "" : await c.res.clone().text());
  } catch (e) {
    // The write landed: its answer stands. The claim stays `processing` and is reclaimed after a minute.
    logError("idempotency record failed; the response stands", e, { path: c.req.path });
  }
});
