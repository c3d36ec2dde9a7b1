/**
 * @module apple/web-service
 * The PassKit web service's verbs (apple-wallet.md §1.1; routes in routes.ts): register and unregister
 * a device, the serials changed since a tag, the latest pass. Every call naming a serial checks its
 * ApplePass token first (auth-token.ts: derived from the serial, so no lookup happens before it), then
 * finds the pass and requires the project's pass type: anything else is a 404.
 *
 * Holder events: a pass's first registration is an `install`, removing its last one an `uninstall`
 * (platform ios), through the pass's Durable Object (`emitHolderEvent`). Counting per pass rather than
 * per registration keeps the two symmetric: a device library id can change (one phone was seen with
 * hundreds), and an iPad and an iPhone holding one pass register separately.
 */
import { MAX_SHARDS, shardCount, withShard } from "../db/shards";
import { getDb } from "../db/client";
import { deleteRegistration, restoreRegistration, serialsChangedSince, upsertRegistration, type RegistrationKey } from "../db/queries/apple-registrations";
import { AppError, notFound, unauthorized } from "../lib/errors";
import { logError } from "../lib/log";
import { emitHolderEvent, walletPass, type WalletPass } from "../passes";
import { DEVICE_TOKEN } from "./apns";
import { checkApplePassAuth } from "./auth-token";
import { loadAppleCredentials, shardsOfPassType, type AppleCredentials } from "./credentials";

export type WebServiceEnv = Pick<Env, "DB" | "MASTER_KEY" | "PASS_OBJECT">;

/** At most this many devices per pass; a new one beyond it replaces the least recently registered. */
export const MAX_REGISTRATIONS_PER_PASS = 100;
/** Serials per "what changed" answer; the rest come on the next call (the tag orders them). */
export const MAX_SERIALS_PER_ANSWER = 500;

const DEVICE_ID = /^[A-Za-z0-9._-]{1,128}$/;
const PASS_TYPE_ID = /^pass\.[A-Za-z0-9.-]{1,128}$/;
const SERIAL = /^[A-Za-z0-9._-]{1,128}$/;

export interface PassAddress {
  passTypeId: string;
  serialNumber: string;
}

/**
 * The pass a device names, after its ApplePass token: 401 for a missing or wrong token (whether or
 * not the serial exists), 404 for an unknown serial or another pass type.
 */
export async function authorizedPass(env: WebServiceEnv, authorization: string | undefined, at: PassAddress): Promise<{ wp: WalletPass; creds: AppleCredentials }> {
  const auth = await checkApplePassAuth(env, authorization, at.serialNumber);
  if (!auth.ok) {
    console.log(JSON.stringify({ msg: "apple web service auth refused", reason: auth.error.reason }));
    throw unauthorized("passhook", "ApplePass");
  }
  return knownPass(env, at);
}

/** The pass at an address of the project's own pass type, or 404. */
export async function knownPass(env: Pick<Env, "DB" | "MASTER_KEY">, at: PassAddress): Promise<{ wp: WalletPass; creds: AppleCredentials }> {
  if (!PASS_TYPE_ID.test(at.passTypeId) || !SERIAL.test(at.serialNumber)) throw notFound("Pass");
  const wp = await walletPass(env, { serialNumber: at.serialNumber });
  const creds = wp ? await loadAppleCredentials(env, wp.pass.projectId) : null;
  if (!wp || !creds || creds.secret.passTypeIdentifier !== at.passTypeId) throw notFound("Pass");
  return { wp, creds };
}

function deviceKey(deviceLibraryId: string, at: PassAddress): RegistrationKey {
  if (!DEVICE_ID.test(deviceLibraryId)) throw notFound("Device");
  return { deviceLibraryId, passTypeId: at.passTypeId, serialNumber: at.serialNumber };
}

/** Endpoint 1: 201 for a new registration, 200 when this device was registered already. */
export async function registerDevice(env: WebServiceEnv, authorization: string | undefined, deviceLibraryId: string, at: PassAddress, body: unknown, now = Date.now()): Promise<201 | 200> {
  const { wp } = await authorizedPass(env, authorization, at);
  const key = deviceKey(deviceLibraryId, at);
  const pushToken = body && typeof body === "object" ? (body as { pushToken?: unknown }).pushToken : undefined;
  if (typeof pushToken !== "string" || !DEVICE_TOKEN.test(pushToken))
    throw new AppError("validation_failed", "The body must be {\"pushToken\": \"<hex APNs token>\"}.", { issues: [{ path: "pushToken", message: "must be a hex APNs device token" }] });
  const db = getDb(env.DB);
  const r = await upsertRegistration(db, { ...key, pushToken: pushToken.toLowerCase(), passId: wp.pass.id, templateId: wp.pass.templateId, projectId: wp.pass.projectId }, now, MAX_REGISTRATIONS_PER_PASS);
  if (r.created && r.count === 1) {
    try {
      await emitHolderEvent(env, wp.pass.id, { event: "install", platform: "ios", source: "apple" });
    } catch (e) {
      // Undo, so the device's retry registers again and the install is not lost.
      await deleteRegistration(db, key, wp.pass.id).catch((undo) => logError("apple registration undo failed", undo));
      throw e;
    }
  }
  return r.created ? 201 : 200;
}

/** Endpoint 2: always 200 once the token is right (a repeat finds nothing to remove). */
export async function unregisterDevice(env: WebServiceEnv, authorization: string | undefined, deviceLibraryId: string, at: PassAddress): Promise<void> {
  const { wp } = await authorizedPass(env, authorization, at);
  const db = getDb(env.DB);
  const r = await deleteRegistration(db, deviceKey(deviceLibraryId, at), wp.pass.id);
  if (!r.removed || r.count !== 0) return;
  try {
    await emitHolderEvent(env, wp.pass.id, { event: "uninstall", platform: "ios", source: "apple" });
  } catch (e) {
    // Undo, so the device's retry unregisters again and the uninstall is not lost.
    await restoreRegistration(db, r.removed).catch((undo) => logError("apple unregistration undo failed", undo));
    throw e;
  }
}

/** A device's last pass removed for another reason (APNs called its token dead). */
export async function lastDeviceGone(env: WebServiceEnv, passId: number): Promise<void> {
  await emitHolderEvent(env, passId, { event: "uninstall", platform: "ios", source: "apple" });
}

/**
 * Endpoint 3: serials of this device and pass type whose tag is past `passesUpdatedSince` (all of them
 * without one; an unreadable tag counts as none), or null for "204, nothing changed".
 *
 * The request names no pass, so it asks the D1 shards where the pass type has projects
 * (`shardsOfPassType`; one, almost always). Tags are ordered within a shard only, so a sharded
 * deployment's `lastUpdated` (opaque to Apple, handed back as `passesUpdatedSince`) is a tag per shard,
 * `<shard>-<tag>` joined by `.`, carrying over the shards not asked this time. A plain tag, as one
 * shard answers (and every deployment did before shards), is shard 0's.
 */
export async function serialsSince(env: Pick<Env, "DB">, deviceLibraryId: string, passTypeId: string, since: string | undefined): Promise<{ serialNumbers: string[]; lastUpdated: string } | null> {
  if (!DEVICE_ID.test(deviceLibraryId) || !PASS_TYPE_ID.test(passTypeId)) return null;
  const sharded = shardCount(env) > 1;
  const from = sinceTags(since, sharded);
  const shards = await shardsOfPassType(env, passTypeId);
  // One row more per shard than an answer holds, to see where the answer cuts a shard's list.
  const perShard = await Promise.all(
    shards.map(async (k) => (await serialsChangedSince(getDb(withShard(env, k).DB), deviceLibraryId, passTypeId, from.get(k) ?? 0, MAX_SERIALS_PER_ANSWER + 1)).map((r) => ({ ...r, shard: k }))),
  );
  // Each shard's rows come oldest first, so the oldest rows overall are a prefix of each shard's list.
  const merged = perShard.flat().sort((a, b) => a.tag - b.tag);
  let rows = merged.slice(0, MAX_SERIALS_PER_ANSWER);
  // The next call asks for tags past the last one answered: a cut through rows sharing one tag (a
  // template fan-out stamps a page with one) would skip the rest, so that shard stops before them.
  const left = merged.slice(MAX_SERIALS_PER_ANSWER);
  for (const k of shards) {
    const firstLeft = left.find((r) => r.shard === k);
    if (firstLeft) rows = rows.filter((r) => r.shard !== k || r.tag !== firstLeft.tag);
  }
  if (!rows.length) rows = merged.slice(0, MAX_SERIALS_PER_ANSWER); // one tag on more rows than an answer: cannot do better
  if (!rows.length) return null;
  if (!sharded) return { serialNumbers: rows.map((r) => r.serialNumber), lastUpdated: String(rows[rows.length - 1].tag) };
  const next = new Map(from);
  for (const r of rows) if (r.tag > (next.get(r.shard) ?? 0)) next.set(r.shard, r.tag);
  const lastUpdated = [...next]
    .sort(([a], [b]) => a - b)
    .map(([k, tag]) => `${k}-${tag}`)
    .join(".");
  return { serialNumbers: rows.map((r) => r.serialNumber), lastUpdated };
}

/** Room for a tag per shard of MAX_SHARDS (`<4 digits>-<16 digits>.`). */
const MAX_SINCE = MAX_SHARDS * 22;

/** `passesUpdatedSince` as a tag per shard; a plain tag is shard 0's (every shard's when unsharded). */
function sinceTags(since: string | undefined, sharded: boolean): Map<number, number> {
  const perShard = new Map<number, number>();
  if (since && /^\d{1,16}$/.test(since)) {
    perShard.set(0, Number(since));
  } else if (sharded && since && since.length <= MAX_SINCE && /^\d{1,4}-\d{1,16}(\.\d{1,4}-\d{1,16})*$/.test(since)) {
    for (const part of since.split(".")) {
      const [k, tag] = part.split("-").map(Number);
      perShard.set(k, tag);
    }
  }
  return perShard;
}
