/**
 * @module dashboard/holder/routes
 * `GET /p/:token`, public: the holder page of the pass the token names (passes domain, derived token),
 * else 404. Not cached by shared caches, never indexed, no referrer (the URL is the credential).
 * The wallet routes below it (`/p/:token/pass.pkpass`, `/p/:token/google`) belong to the Apple and
 * Google edges.
 */
import { Hono } from "hono";
import { findPassByPublicToken, holderTokenEnv } from "../../passes";
import type { ResolvedOptions } from "../context";
import { securityHeaders } from "../guard";
import { HolderNotFound, HolderPage } from "./page";
import { walletOrder } from "./platform";

export function holderRoutes(opts: ResolvedOptions) {
  return new Hono<{ Bindings: Env }>().get("/p/:token", securityHeaders, async (c) => {
    c.header("X-Robots-Tag", "noindex, nofollow");
    const token = c.req.param("token");
    const env = token.length <= 64 ? holderTokenEnv(c.env, token) : null;
    const found = env ? await findPassByPublicToken(env, token) : null;
    if (!env || !found) return c.html(<HolderNotFound />, 404);
    const wallets = await opts.holderWallets(env, found.pass.projectId);
    return c.html(<HolderPage found={found} token={token} wallets={wallets} order={walletOrder(c.req.header("user-agent"))} />);
  });
}
