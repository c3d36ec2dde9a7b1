/**
 * @module google/links
 * A pass's "Save to Google Wallet" URL (api.md "Passes" `/v1/pass/{passId}/links`; google-wallet.md
 * §4): `https://pay.google.com/gp/v/save/{jwt}`, a `savetowallet` JWT signed with the project's
 * service account, origins from its credentials.
 * - Skinny (`{id, classId}` only) when our insert confirmed the object exists: always short.
 * - Inline (the whole object; Google inserts it on save) otherwise, when it stays under Google's
 *   1800 characters; a push is requested too, so the object is inserted and later links are skinny.
 * - When the inline JWT would be too long, the object is inserted right away (insert only, see
 *   push.ts insertObjectNow) and the link is skinny.
 * Every link issued is recorded: the reconciliation job looks for saves of exactly these passes.
 */
import { getDb } from "../db/client";
import { findGoogleObject, recordLinkIssued } from "../db/queries/google";
import { AppError } from "../lib/errors";
import { passSubject, requestWalletPush, walletJob } from "../passes";
import { buildContext, googleAccount, MISSING_PUBLIC_URL, publicBase, type GoogleEnv } from "./account";
import { signingKey } from "./auth";
import { objectBody } from "./object-body";
import { insertObjectNow, type PushEnv } from "./push";
import { saveLink } from "./save-link";
import { DesignError, loadPassSubject } from "./subject";

export type LinkEnv = GoogleEnv & PushEnv;

/** The pass's save URL, or null when its project has no Google credentials. */
export async function googleSaveLink(env: LinkEnv, pass: { id: number; projectId: string }, now = Date.now()): Promise<string | null> {
  const account = await googleAccount(env, pass.projectId);
  if (!account) return null;
  const db = getDb(env.DB);
  let s;
  try {
    s = await loadPassSubject({ env, projectId: pass.projectId }, pass.id);
  } catch (e) {
    if (e instanceof DesignError) throw new AppError("conflict", `No Google Wallet link: ${e.message}.`);
    throw e;
  }
  const base = publicBase(env);
  const ctx = await buildContext(env, account, base);
  const state = await findGoogleObject(db, pass.id);
  const inserted = state?.insertedAt != null;
  const link = await saveLink({
    key: await signingKey(account.serviceAccount),
    serviceAccountEmail: account.secret.serviceAccountEmail,
    origins: account.secret.origins,
    resource: s.resource,
    object: objectBody(s.templateLike, s.passLike, s.design, ctx),
    objectExists: inserted,
    now,
  });
  let url: string;
  if (link.ok) {
    url = link.value.url;
    const task = { wallet: "google" as const, subject: passSubject(pass.id) };
    // A pending job will insert it anyway (the cron re-sends a lost task); otherwise ask for one,
    // later than any change already shown, so it is due even if an earlier push finished.
    if (!inserted && (await walletJob(env, task))?.state !== "pending") {
      await requestWalletPush(env, env.GOOGLE_QUEUE, { ...task, projectId: pass.projectId, wantedAt: Math.max(now, Date.parse(s.pass.updatedAt)) }, now);
    }
  } else {
    if (!base) throw new AppError("conflict", `No Google Wallet link yet: ${MISSING_PUBLIC_URL}.`);
    const r = await insertObjectNow(env, account, base, s);
    if (r.kind !== "done") throw new AppError("conflict", `Google Wallet has not taken this pass yet (${r.kind === "retry" || r.kind === "failed" ? r.message : "pending"}); try again shortly.`);
    const skinny = await saveLink({
      key: await signingKey(account.serviceAccount),
      serviceAccountEmail: account.secret.serviceAccountEmail,
      origins: account.secret.origins,
      resource: s.resource,
      object: objectBody(s.templateLike, s.passLike, s.design, ctx),
      objectExists: true,
      now,
    });
    if (!skinny.ok) throw new AppError("conflict", `No Google Wallet link: ${skinny.error.message}.`);
    url = skinny.value.url;
  }
  await recordLinkIssued(db, { passId: pass.id, projectId: pass.projectId, templateId: s.pass.templateId, now });
  return url;
}
