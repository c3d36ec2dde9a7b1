/**
 * @module passes/links
 * The holder page's public token: derived from the pass, never stored. `<passId base36>.<tag>` where
 * the tag is HMAC-SHA256 over `pass-page:<passId>:<serialNumber>`, truncated to 128 bits, under a key
 * derived from MASTER_KEY (HKDF, its own `info`). The id part lets a lookup find the pass with one
 * indexed read; the tag makes the token unguessable. Nothing is revealed by a wrong token: it is
 * simply "not found". A pass in a D1 shard other than 0 has `<shard>_` in front, and the shard in
 * its tag (db/shards.ts).
 */
import { getDb } from "../db/client";
import { findPassById } from "../db/queries/passes";
import { findTemplate } from "../db/queries/templates";
import { prefixShard, shardOf, splitShard, withShard } from "../db/shards";
import { constantTimeEqual, deriveKey, hmacWithKey, toBase64Url } from "../lib/crypto";
import { passView, templateView, type PassView, type TemplateView } from "./view";

const KEY_INFO = "passhook/v1/pass-page-token";
/** 16 bytes = 128 bits of tag (22 base64url characters). */
const TAG_BYTES = 16;
const TOKEN = /^([0-9a-z]{1,11})\.([A-Za-z0-9_-]{22})$/;

async function tag(masterKey: string, shard: number, passId: number, serialNumber: string): Promise<string> {
  const key = await deriveKey(masterKey, KEY_INFO, "hmac");
  const what = shard ? `pass-page:${shard}:${passId}:${serialNumber}` : `pass-page:${passId}:${serialNumber}`;
  return toBase64Url((await hmacWithKey(key, what)).subarray(0, TAG_BYTES));
}

/** The public token of a pass's holder page (`/p/{token}`); `env` is the pass's shard. */
export async function passPublicToken(env: Pick<Env, "MASTER_KEY">, pass: { id: number; serialNumber: string }): Promise<string> {
  return prefixShard(env, "_", `${pass.id.toString(36)}.${await tag(env.MASTER_KEY, shardOf(env), pass.id, pass.serialNumber)}`);
}

/** `env` for the shard a holder-page token names, or null when it names none. */
export function holderTokenEnv<E extends Pick<Env, "DB">>(env: E, token: string): E | null {
  const at = splitShard(env, "_", token);
  return at ? withShard(env, at.shard) : null;
}

/** The holder page URL of a pass under `publicUrl` (PUBLIC_URL, else the request's origin). */
export async function passPageUrl(env: Pick<Env, "MASTER_KEY">, publicUrl: string, pass: { id: number; serialNumber: string }): Promise<string> {
  return `${publicUrl.replace(/\/+$/, "")}/p/${await passPublicToken(env, pass)}`;
}

export interface PublicPass {
  pass: PassView;
  template: TemplateView;
}

/** The pass (with its template) a holder-page token names, or null for anything else; `env` from holderTokenEnv. */
export async function findPassByPublicToken(env: Pick<Env, "DB" | "MASTER_KEY">, token: string): Promise<PublicPass | null> {
  const at = splitShard(env, "_", token);
  if (!at || at.shard !== shardOf(env)) return null;
  const m = TOKEN.exec(at.rest);
  if (!m) return null;
  const id = Number.parseInt(m[1], 36);
  if (!Number.isSafeInteger(id) || id < 1) return null;
  const db = getDb(env.DB);
  const pass = await findPassById(db, id);
  if (!pass) return null;
  if (!(await constantTimeEqual(m[2], await tag(env.MASTER_KEY, at.shard, pass.id, pass.serialNumber)))) return null;
  const template = await findTemplate(db, pass.templateId);
  if (!template) return null;
  return { pass: passView(pass), template: templateView(template) };
}
