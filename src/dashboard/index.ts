/**
 * @module dashboard
 * The web dashboard (`/dashboard`) and the public holder page (`/p/:token`), rendered on the server
 * with Hono JSX. Every action is a plain HTML form POST that calls the same domain verbs as the REST
 * API; `public/static/dashboard.js` only adds the live payload preview and copy buttons.
 */
import { Hono } from "hono";
import { AppError } from "../lib/errors";
import { resolveOptions, type DashboardOptions, type DashEnv } from "./context";
import { callbackPages } from "./callbacks/routes";
import { formBody, requireSession, securityHeaders } from "./guard";
import { holderRoutes } from "./holder/routes";
import { integrationPages } from "./integrations/routes";
import { passPages } from "./passes/routes";
import { dashboardError } from "./render";
import { signInRoutes, signOut } from "./sign-in";

export function dashboardApp(options: DashboardOptions = {}): Hono<{ Bindings: Env }> {
  const opts = resolveOptions(options);
  const dash = new Hono<DashEnv>();
  dash.use("*", securityHeaders);
  // Registered before the session guard, which the sign-in handlers answer ahead of.
  dash.route("/", signInRoutes(opts));
  dash.use("*", requireSession(opts), formBody);
  dash.get("/", (c) => c.redirect("/dashboard/integrations", 303));
  dash.post("/sign-out", signOut);
  dash.route("/", integrationPages());
  dash.route("/", passPages(opts));
  dash.route("/", callbackPages());
  // Any other dashboard path (signed in): an HTML 404 inside the dashboard, not the API's JSON.
  dash.all("*", () => {
    throw new AppError("not_found", "There is no such page in the dashboard.");
  });
  dash.onError(dashboardError);

  const root = new Hono<{ Bindings: Env }>();
  root.route("/dashboard", dash);
  root.route("/", holderRoutes(opts));
  return root;
}

export { walletsNotConfigured, type DashboardOptions, type HolderWallets, type WalletAvailability } from "./context";
export { sealSession, newSession, openSession, cookieName, SESSION_TTL, type Session } from "./session";
