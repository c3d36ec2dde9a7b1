/**
 * @module google/routes
 * Google Wallet's HTTP surface:
 * - `POST /google/callback` (public; the ECv2SigningOnly signature is the authentication): the raw
 *   body is read once, at most 64 KiB, and handed to callback.ts; 200 (also for duplicates) or a
 *   401 that does not say why. An address whose callbacks keep failing verification is answered
 *   429 before any work (callback-guard.ts).
 * - `GET /p/:token/google` (public; the holder page's button): 302 to the pass's save link, 404 for
 *   an unknown token or a project without Google credentials.
 * - `PUT /v1/project/:projectId/credentials/google` (project auth, mounted inside the admin API).
 * The save link in `GET /v1/pass/{passId}/links` comes from `googleSaveLink` (src/api/passes.ts).
 */
import { clientKey } from "../lib/client";
import { Hono } from "hono";
import type { AppEnv } from "../env";
import { readBody, readJsonBody } from "../lib/body";
import { AppError, isAppError } from "../lib/errors";
import { findPassByPublicToken, holderTokenEnv } from "../passes";
import { receiveGoogleCallback } from "./callback";
import { BLOCK_MS, callbackClientBlocked, noteCallbackFailure } from "./callback-guard";
import { saveGoogleCredentials } from "./credentials";
import { googleSaveLink } from "./links";

/** A real callback is under 2 KB. */
export const CALLBACK_BODY_LIMIT = 64 * 1024;

export const googleRootRoutes = new Hono<AppEnv>()
  .post("/google/callback", async (c) => {
    const client = clientKey(c.req.header("cf-connecting-ip")) ?? "local";
    const now = Date.now();
    if (callbackClientBlocked(client, now)) {
      throw new AppError("rate_limited", "Too many callbacks from this address failed verification; try again in a minute.", null, { "Retry-After": String(BLOCK_MS / 1000) });
    }
    const { text } = await readBody(c.req.raw, CALLBACK_BODY_LIMIT);
    const answer = await receiveGoogleCallback(c.env, text, now);
    if (answer.status === 401) {
      // Only failed verifications count: a callback for an object that is not ours (another issuer
      // can point its classes here, and Google then sends it genuinely signed) must not get Google's
      // own address blocked for every tenant.
      if (answer.reason !== "not_ours") await noteCallbackFailure(c.env, client, now);
      throw new AppError("unauthorized", "The callback signature does not verify.", null, { "WWW-Authenticate": 'ECv2SigningOnly realm="passhook"' });
    }
    return c.json({ ok: true });
  })
  .get("/p/:token/google", async (c) => {
    const headers = { "Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex, nofollow" };
    const token = c.req.param("token");
    const env = token.length <= 64 ? holderTokenEnv(c.env, token) : null;
    const found = env ? await findPassByPublicToken(env, token) : null;
    // A withdrawn or voided pass is offered no more (an inline save link would carry its fields).
    if (found && (found.pass.archivedAt !== null || found.pass.status === "voided")) return c.text("This pass has been withdrawn.", 410, headers);
    let url: string | null = null;
    try {
      url = env && found ? await googleSaveLink(env, found.pass) : null;
    } catch (e) {
      // Google has not taken the pass yet: the holder can try again in a moment.
      if (isAppError(e) && e.code === "conflict") return c.text("This pass is not ready for Google Wallet yet. Please try again in a minute.", 503, { ...headers, "Retry-After": "30" });
      throw e;
    }
    if (!url) return c.text("Not found.", 404, headers);
    for (const [k, v] of Object.entries(headers)) c.header(k, v);
    return c.redirect(url, 302);
  });

export const googleApiRoutes = new Hono<AppEnv>()
  .put("/v1/project/:projectId/credentials/google", async (c) => c.json(await saveGoogleCredentials(c.env, c.get("projectId"), await readJsonBody(c.req.raw))));
