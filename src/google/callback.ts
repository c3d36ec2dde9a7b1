/**
 * @module google/callback
 * `POST /google/callback`: Google's save/delete callbacks (google-wallet.md §5, §6). The signature
 * is the only authentication, so nothing is believed before it verifies:
 * 1. the unverified `signedMessage` is read for one thing only, the object id, which names the
 *    project (`{issuerId}.{projectId}.p{passId}`, ids.ts) whose credentials give the recipient;
 * 2. the project's issuer id must be the object id's prefix, then the whole ECv2SigningOnly chain
 *    is verified with recipient = that issuer id (callback-verify.ts); the root keys are refetched
 *    once when no intermediate signature verifies (Google rotates them);
 * 3. the nonce is claimed with a unique insert, so a duplicate delivery or replay, even a
 *    concurrent one, emits nothing and answers 200;
 * 4. `save` emits install and `del` uninstall (platform android) through the pass's Durable Object,
 *    like Apple's first registration and last unregistration: a save emits only when the pass is
 *    not installed (a second save without a delete between, or one confirming the reconciliation
 *    job's install, emits nothing), a delete only when it is (google_objects.installed_at).
 * Anything that does not verify answers 401 without saying why (the reason goes to the log). A
 * verified message that has expired, or names a pass that no longer exists, answers 200 and emits
 * nothing: Google retrying it would not help. If emitting fails the nonce is released and the answer
 * is 500, so Google's retry is handled.
 */
import { projectEnv } from "../projects";
import { getDb } from "../db/client";
import { claimNonce, purgeNonces, recordDeleteCallback, recordSaveCallback, releaseNonce, undoDeleteCallback, undoSaveCallback } from "../db/queries/google";
import { isAppError } from "../lib/errors";
import { DAY } from "../lib/time";
import { emitHolderEvent, getPass } from "../passes";
import { googleAccount, type GoogleEnv } from "./account";
import { DEFAULT_SENDER_ID, verifyCallback, type CallbackFailureReason, type CallbackMessage } from "./callback-verify";
import { parseGoogleObjectId } from "./ids";
import { getRootKeys } from "./root-keys";

export type CallbackEnv = GoogleEnv & Pick<Env, "PASS_OBJECT">;

export type CallbackAnswer =
  | { status: 200; outcome: "emitted" | "duplicate" | "confirmed" | "already_installed" | "not_installed" | "expired" | "unknown_pass" }
  | { status: 401; reason: CallbackFailureReason | "not_ours" };

/** Seen on doc copies instead of the observed `GooglePayPasses` (§5 "Discrepancy"); tried second. */
const ALTERNATE_SENDER_ID = "GoogleWalletPasses";

/** The object id of an unverified body, or null. Only used to find whose credentials verify it. */
function claimedObjectId(body: string): string | null {
  try {
    const envelope: unknown = JSON.parse(body);
    const signed = envelope && typeof envelope === "object" ? (envelope as Record<string, unknown>).signedMessage : undefined;
    if (typeof signed !== "string") return null;
    const msg: unknown = JSON.parse(signed);
    const id = msg && typeof msg === "object" ? (msg as Record<string, unknown>).objectId : undefined;
    return typeof id === "string" ? id : null;
  } catch {
    return null;
  }
}

async function verify(env: CallbackEnv, body: string, issuerId: string, cfg: { callbackKeysUrl: string; senderId: string }, now: number) {
  const senderIds = cfg.senderId === DEFAULT_SENDER_ID ? [DEFAULT_SENDER_ID, ALTERNATE_SENDER_ID] : [cfg.senderId];
  const attempt = async (forceRefresh: boolean) =>
    verifyCallback({ body, rootKeys: await getRootKeys(cfg.callbackKeysUrl, { now, forceRefresh }), senderIds, recipientId: issuerId, now });
  const first = await attempt(false);
  if (first.ok || (first.error.reason !== "intermediate_signature" && first.error.reason !== "no_root_keys")) return first;
  return attempt(true);
}

/** Handles one callback body (the raw text, read once). */
export async function receiveGoogleCallback(root: CallbackEnv, body: string, now = Date.now()): Promise<CallbackAnswer> {
  const claimed = claimedObjectId(body);
  const prefix = claimed ? /^([0-9]{1,25})\./.exec(claimed)?.[1] : undefined;
  const target = claimed && prefix ? parseGoogleObjectId(claimed, prefix) : null;
  // The object id names the project; the directory names its D1 shard (db/shards.ts).
  const env = target ? await projectEnv(root, target.projectId) : null;
  const account = target && env ? await googleAccount(env, target.projectId) : null;
  if (!target || !env || !account || account.secret.issuerId !== prefix) return refuse("not_ours");

  const verified = await verify(env, body, account.secret.issuerId, account.config, now);
  if (!verified.ok) {
    if (verified.error.reason === "message_expired") return { status: 200, outcome: "expired" };
    return refuse(verified.error.reason);
  }
  const msg: CallbackMessage = verified.value;
  if (msg.senderId !== account.config.senderId) console.warn(JSON.stringify({ msg: "google callback verified with the alternate sender id", senderId: msg.senderId }));
  // The signed object id is the one we routed by (the message is what was signed).
  const passId = target.passId;

  let pass;
  try {
    pass = await getPass({ env, projectId: target.projectId }, { passId });
  } catch (e) {
    if (isAppError(e) && e.code === "not_found") return { status: 200, outcome: "unknown_pass" };
    throw e;
  }
  const db = getDb(env.DB);
  if (!(await claimNonce(db, { nonce: msg.nonce, passId, eventType: msg.eventType, now }))) return { status: 200, outcome: "duplicate" };
  // Recorded first (so of two concurrent saves one emits), undone if the event cannot be emitted.
  let undo: (() => Promise<void>) | null = null;
  try {
    if (msg.eventType === "save") {
      const saved = await recordSaveCallback(db, { passId, projectId: pass.projectId, templateId: pass.templateId, now });
      if (saved.wasInstalled) return { status: 200, outcome: saved.reconciled ? "confirmed" : "already_installed" };
      undo = () => undoSaveCallback(db, passId, now, now);
      await emitHolderEvent(env, passId, { event: "install", platform: "android", source: "google" });
    } else {
      const { installedAt } = await recordDeleteCallback(db, passId, now);
      if (installedAt === null) return { status: 200, outcome: "not_installed" };
      undo = () => undoDeleteCallback(db, passId, installedAt, now);
      await emitHolderEvent(env, passId, { event: "uninstall", platform: "android", source: "google" });
    }
  } catch (e) {
    await undo?.().catch(() => undefined);
    await releaseNonce(db, msg.nonce).catch(() => undefined);
    throw e;
  }
  return { status: 200, outcome: "emitted" };
}

function refuse(reason: CallbackFailureReason | "not_ours"): CallbackAnswer {
  console.log(JSON.stringify({ msg: "google callback refused", reason }));
  return { status: 401, reason };
}

export const NONCE_RETENTION_MS = 7 * DAY;
const PURGE_BATCH = 500;
const PURGE_ROUNDS = 20;

/** Deletes nonces older than 7 days (Google's retries are long over), bounded per cron run. */
export async function purgeGoogleNonces(env: Pick<Env, "DB">, now = Date.now()): Promise<number> {
  const db = getDb(env.DB);
  let total = 0;
  for (let i = 0; i < PURGE_ROUNDS; i++) {
    const n = await purgeNonces(db, now - NONCE_RETENTION_MS, PURGE_BATCH);
    total += n;
    if (n < PURGE_BATCH) break;
  }
  return total;
}
