/**
 * @module apple/downloads
 * Getting a pass onto an iPhone: the project's own download (`GET /v1/pass/{passId}/pkpass`), the
 * public, unguessable link a holder opens (`/p/{token}/pass.pkpass`, the holder page's token from
 * passes/links.ts), and the web service's "latest pass" (endpoint 4). All build the same bundle.
 */
import { AppError, notFound } from "../lib/errors";
import { findPassByPublicToken, holderTokenEnv, passPublicToken, walletPass, type WalletPass } from "../passes";
import { buildBundle, httpLastModified, notModifiedSince, passState } from "./bundle";
import { loadAppleCredentials, type AppleCredentials } from "./credentials";
import { publicUrl } from "./config";
import { authorizedPass, type PassAddress, type WebServiceEnv } from "./web-service";

type DownloadEnv = Pick<Env, "DB" | "MASTER_KEY" | "PUBLIC_URL">;

export interface Download {
  /** null: not modified since the device's copy (304). */
  bytes: Uint8Array | null;
  /** Seconds since the epoch for the Last-Modified header. */
  lastModifiedSeconds: number;
  serialNumber: string;
}

async function download(env: DownloadEnv, wp: WalletPass, creds: AppleCredentials, ifModifiedSince: string | undefined, now: number): Promise<Download> {
  const state = await passState(env, wp);
  const lastModifiedSeconds = httpLastModified(state.lastModified, now);
  if (notModifiedSince(ifModifiedSince, state.lastModified)) return { bytes: null, lastModifiedSeconds, serialNumber: wp.pass.serialNumber };
  return { bytes: await buildBundle(env, wp, creds, state, now), lastModifiedSeconds, serialNumber: wp.pass.serialNumber };
}

/** A project's pass as a .pkpass; 409 when the project has no Apple credentials. */
export async function projectPkpass(env: DownloadEnv, projectId: string, passId: number, now = Date.now()): Promise<Download> {
  const wp = await walletPass(env, { passId });
  if (!wp || wp.pass.projectId !== projectId) throw notFound("Pass");
  const creds = await loadAppleCredentials(env, projectId);
  if (!creds) throw new AppError("conflict", `Apple Wallet is not set up for this project: PUT /v1/project/${projectId}/credentials/apple first.`);
  return download(env, wp, creds, undefined, now);
}

/**
 * The public link's pass: 404 for an unknown token or a project without Apple; 410 once archived or
 * voided (the link cannot be revoked, so it stops handing out the holder's data, as the page does).
 */
export async function publicPkpass(root: DownloadEnv, token: string, now = Date.now()): Promise<Download> {
  const env = holderTokenEnv(root, token);
  if (!env) throw notFound("Pass");
  const found = await findPassByPublicToken(env, token);
  const wp = found ? await walletPass(env, { passId: found.pass.id }) : null;
  const creds = wp ? await loadAppleCredentials(env, wp.pass.projectId) : null;
  if (!wp || !creds) throw notFound("Pass");
  if (wp.pass.archivedAt !== null || wp.pass.status === "voided") throw new AppError("pass_archived", "This pass has been withdrawn.");
  return download(env, wp, creds, undefined, now);
}

/** Endpoint 4: the latest pass for a device, or "not modified" for its If-Modified-Since. */
export async function latestPass(env: WebServiceEnv & DownloadEnv, authorization: string | undefined, at: PassAddress, ifModifiedSince: string | undefined, now = Date.now()): Promise<Download> {
  const { wp, creds } = await authorizedPass(env, authorization, at);
  return download(env, wp, creds, ifModifiedSince, now);
}

/**
 * The public download URL of a pass (`{PUBLIC_URL}/p/{token}/pass.pkpass`), or null when its project
 * has no Apple credentials. `origin` stands in for PUBLIC_URL when that is not set (a request's
 * origin); the link itself never goes into a pass.
 */
export async function appleDownloadUrl(env: Pick<Env, "DB" | "MASTER_KEY" | "PUBLIC_URL">, pass: { id: number; serialNumber: string; projectId: string }, origin?: string): Promise<string | null> {
  if (!(await loadAppleCredentials(env, pass.projectId))) return null;
  const base = env.PUBLIC_URL ? publicUrl(env) : origin?.replace(/\/+$/, "");
  if (!base) publicUrl(env); // throws the clear PUBLIC_URL error
  return `${base}/p/${await passPublicToken(env, pass)}/pass.pkpass`;
}
