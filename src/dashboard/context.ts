/**
 * @module dashboard/context
 * The dashboard's Hono environment and options. The composition root (src/app.ts) passes the options:
 * which wallets a project has set up (for the holder page's buttons) and, in tests, a clock.
 */
import type { Context } from "hono";
import type { AppEnv } from "../env";
import { configuredWallets } from "../projects";
import type { Session } from "./session";

/** Which wallet buttons a project's holder page can offer. */
export interface WalletAvailability {
  apple: boolean;
  google: boolean;
}

/**
 * Tells whether Apple Wallet (`/p/{token}/pass.pkpass`) and Google Wallet (`/p/{token}/google`) are
 * configured for a project. Tests may pass their own.
 */
export type HolderWallets = (env: Env, projectId: string) => Promise<WalletAvailability>;

/** The default: the wallets whose credentials the project has stored. */
export const projectWallets: HolderWallets = (env, projectId) => configuredWallets(env, projectId);

/** No wallet: for tests of the page's "not set up yet" state. */
export const walletsNotConfigured: HolderWallets = async () => ({ apple: false, google: false });

export interface DashboardOptions {
  holderWallets?: HolderWallets;
  /** The clock (ms); tests inject one to expire sessions. */
  now?: () => number;
}

export interface ResolvedOptions {
  holderWallets: HolderWallets;
  now: () => number;
}

export function resolveOptions(o: DashboardOptions = {}): ResolvedOptions {
  return { holderWallets: o.holderWallets ?? projectWallets, now: o.now ?? Date.now };
}

export type DashEnv = {
  Bindings: Env;
  Variables: AppEnv["Variables"] & { session: Session; form: URLSearchParams };
};
export type DashContext = Context<DashEnv>;

/** Base of public links (listener URLs, holder pages): PUBLIC_URL, else the request's origin. */
export function publicUrl(c: { env: Pick<Env, "PUBLIC_URL">; req: { url: string } }): string {
  return (c.env.PUBLIC_URL || new URL(c.req.url).origin).replace(/\/+$/, "");
}

/** Loopback hosts are plain http in local development: cookies there cannot be `Secure`. */
export function isLocalRequest(url: string): boolean {
  const host = new URL(url).hostname;
  return host === "127.0.0.1" || host === "localhost" || host === "[::1]";
}
