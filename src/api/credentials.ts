/**
 * Wallet credentials. `GET` and `DELETE` are the shared store's; each wallet's `PUT` (validation is
 * the wallet's business) is mounted by that wallet's edge through `buildApi`'s extra routers.
 */
import { Hono } from "hono";
import type { AppEnv } from "../env";
import { notFound } from "../lib/errors";
import { deleteWalletCredentials, walletCredentialSummaries, WALLETS, type WalletName } from "../projects";

export const credentialRoutes = new Hono<AppEnv>()
  .get("/v1/project/:projectId/credentials", async (c) => c.json(await walletCredentialSummaries(c.env, c.get("projectId"))))
  .delete("/v1/project/:projectId/credentials/:wallet", async (c) => {
    const wallet = c.req.param("wallet");
    if (!(WALLETS as readonly string[]).includes(wallet)) throw notFound("Credentials");
    await deleteWalletCredentials(c.env, c.get("projectId"), wallet as WalletName);
    return c.body(null, 204);
  });
