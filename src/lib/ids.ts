/**
 * @module lib/ids
 * Prefixed random ids and secrets (after svix's `msg_`/`ep_`/`whsec_`): logs stay readable and a
 * parser can reject an id of the wrong kind. Passes and templates use integer ids instead, because
 * Airship's callback body carries them as integers.
 */
import { randomBytes, toBase64Url } from "./crypto";

export const ID_PREFIXES = {
  project: "prj",
  apiKey: "pk",
  apiSecret: "sk",
  integration: "int",
  inboundEvent: "evt",
  delivery: "msg",
  attempt: "atm",
  outbox: "obx",
} as const;

export type IdKind = keyof typeof ID_PREFIXES;

const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";

/** A prefixed id with 120 random bits (23 base-36 characters). */
export function newId(kind: IdKind): string {
  const bytes = randomBytes(23);
  let out = "";
  for (const b of bytes) out += ALPHABET[b % 36];
  return `${ID_PREFIXES[kind]}_${out}`;
}

export function hasPrefix(id: string, kind: IdKind): boolean {
  return id.startsWith(`${ID_PREFIXES[kind]}_`) && id.length > ID_PREFIXES[kind].length + 1;
}

/** A URL-safe secret token with `bytes` random bytes (default 32 = 256 bits). */
export function newToken(bytes = 32): string {
  return toBase64Url(randomBytes(bytes));
}

/** Parses a positive integer id from a path segment; null when it is not one. */
export function parseIntId(raw: string): number | null {
  if (!/^[1-9][0-9]{0,15}$/.test(raw)) return null;
  const n = Number(raw);
  return Number.isSafeInteger(n) ? n : null;
}
