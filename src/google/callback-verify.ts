/**
 * @module google/callback-verify
 * Verifies a Google Wallet save/delete callback (google-wallet.md §5; Tink
 * PaymentMethodTokenRecipient with protocol `ECv2SigningOnly`). Pure: the root keys, the expected
 * sender and recipient ids and the clock are passed in; WebCrypto does the maths.
 *
 * Order (nothing in `signedMessage` is trusted before step 4):
 * 1. the envelope parses and says `protocolVersion: "ECv2SigningOnly"`;
 * 2. some `intermediateSigningKey.signatures[i]` verifies under some usable root key over
 *    `LV(sender) || LV(protocol) || LV(signedKey)`;
 * 3. the intermediate key (`signedKey`, a JSON string verified as received) has not expired;
 * 4. `signature` verifies under the intermediate key over
 *    `LV(sender) || LV(recipient) || LV(protocol) || LV(signedMessage)`;
 * 5. the message parses, has not expired (`expTimeMillis`; Tink does not check this one) and names
 *    objects of this issuer.
 * Replays are the caller's business: dedupe on the returned `nonce`.
 */
import { err, ok, type Result } from "../lib/result";
import { importP256, lengthValue, verifyDer } from "./ecdsa";
import { usableRootKeys, type RootKey } from "./root-keys";

export const PROTOCOL = "ECv2SigningOnly";
/** Observed on real callbacks up to Oct 2025; some doc copies say `GoogleWalletPasses` (§5). */
export const DEFAULT_SENDER_ID = "GooglePayPasses";
/** A real callback is under 1.5 KB; anything far larger is not from Google. */
const MAX_BODY = 16 * 1024;
const MAX_SIGNATURES = 8;

export type CallbackFailureReason =
  | "bad_json"
  | "unsupported_protocol"
  | "no_root_keys"
  | "intermediate_signature"
  | "bad_intermediate_key"
  | "intermediate_expired"
  | "message_signature"
  | "wrong_recipient"
  | "bad_message"
  | "message_expired";

export interface CallbackFailure {
  reason: CallbackFailureReason;
  /** For logs: says what failed, never echoes key material. */
  message: string;
}

export interface CallbackMessage {
  classId: string;
  objectId: string;
  eventType: "save" | "del";
  expTimeMillis: number;
  /** Google's dedupe key ("track any duplicate deliveries"). */
  nonce: string;
  /** Undocumented, observed as 1; kept for logs. */
  count: number | null;
  /** Which configured sender id verified the chain. */
  senderId: string;
}

export interface VerifyCallbackInput {
  /** The raw request body, exactly as received (never re-serialised). */
  body: string;
  rootKeys: readonly RootKey[];
  /** Tried in order, e.g. [GOOGLE_CALLBACK_SENDER_ID] or ["GooglePayPasses", "GoogleWalletPasses"]. */
  senderIds: readonly string[];
  /** The issuer id of this project's credentials, digits only, e.g. "3388000000022141777". */
  recipientId: string;
  now: number;
}

interface Envelope {
  signature: string;
  signedKey: string;
  signatures: string[];
  protocolVersion: string;
  signedMessage: string;
}

const fail = (reason: CallbackFailureReason, message: string) => err<CallbackFailure>({ reason, message });

/** Verifies one callback body. See the module header for the order of checks. */
export async function verifyCallback(input: VerifyCallbackInput): Promise<Result<CallbackMessage, CallbackFailure>> {
  const env = parseEnvelope(input.body);
  if (!env) return fail("bad_json", "the body is not a callback envelope");
  if (env.protocolVersion !== PROTOCOL) return fail("unsupported_protocol", `protocolVersion must be ${PROTOCOL}`);

  const roots = await Promise.all(usableRootKeys(input.rootKeys, input.now).map((k) => importP256(k.keyValue)));
  const rootKeys = roots.filter((k): k is CryptoKey => k !== null);
  if (rootKeys.length === 0) return fail("no_root_keys", "no unexpired ECv2SigningOnly root key is available");

  // 2. Which sender (if any) signed the intermediate key under which root.
  let senderId: string | null = null;
  outer: for (const sender of input.senderIds) {
    const signed = lengthValue(sender, PROTOCOL, env.signedKey);
    for (const sig of env.signatures) {
      for (const root of rootKeys) {
        if (await verifyDer(root, sig, signed)) {
          senderId = sender;
          break outer;
        }
      }
    }
  }
  if (senderId === null) {
    return fail("intermediate_signature", "no signature on the intermediate key verifies under a current root key");
  }

  // 3. The intermediate key, now that we know Google signed it.
  const intermediate = parseJsonObject(env.signedKey);
  const expiration = intermediate && typeof intermediate.keyExpiration === "string" && /^\d{1,15}$/.test(intermediate.keyExpiration)
    ? Number(intermediate.keyExpiration)
    : null;
  const intermediateKey = intermediate ? await importP256(intermediate.keyValue) : null;
  if (!intermediateKey || expiration === null) return fail("bad_intermediate_key", "the intermediate signing key is malformed");
  if (expiration <= input.now) return fail("intermediate_expired", "the intermediate signing key has expired");

  // 4. The message signature, bound to this recipient.
  const messageSigned = (recipient: string) => lengthValue(senderId, recipient, PROTOCOL, env.signedMessage);
  if (!(await verifyDer(intermediateKey, env.signature, messageSigned(input.recipientId)))) {
    // Diagnosis only: a message Google signed for another issuer is still rejected, but the log
    // can say so. The candidate comes from the (unverified) class id prefix.
    const other = issuerPrefix(parseJsonObject(env.signedMessage)?.classId);
    if (other && other !== input.recipientId && (await verifyDer(intermediateKey, env.signature, messageSigned(other)))) {
      return fail("wrong_recipient", "the message was signed for another issuer");
    }
    return fail("message_signature", "the message signature does not verify");
  }

  // 5. The message itself.
  const msg = parseMessage(env.signedMessage);
  if (!msg) return fail("bad_message", "the signed message lacks classId, objectId, eventType, expTimeMillis or nonce");
  if (issuerPrefix(msg.classId) !== input.recipientId || issuerPrefix(msg.objectId) !== input.recipientId) {
    return fail("wrong_recipient", "the message names another issuer's class or object");
  }
  if (msg.expTimeMillis <= input.now) return fail("message_expired", "the message has expired");
  return ok({ ...msg, senderId });
}

function parseEnvelope(body: string): Envelope | null {
  if (typeof body !== "string" || body.length > MAX_BODY) return null;
  const o = parseJsonObject(body);
  if (!o) return null;
  const isk = o.intermediateSigningKey;
  if (!isk || typeof isk !== "object" || Array.isArray(isk)) return null;
  const { signedKey, signatures } = isk as Record<string, unknown>;
  const { signature, protocolVersion, signedMessage } = o;
  if (typeof signature !== "string" || typeof protocolVersion !== "string" || typeof signedMessage !== "string") return null;
  if (typeof signedKey !== "string" || !Array.isArray(signatures) || signatures.length === 0 || signatures.length > MAX_SIGNATURES) return null;
  if (!signatures.every((s) => typeof s === "string")) return null;
  return { signature, signedKey, signatures: signatures as string[], protocolVersion, signedMessage };
}

function parseMessage(text: string): Omit<CallbackMessage, "senderId"> | null {
  const o = parseJsonObject(text);
  if (!o) return null;
  const { classId, objectId, expTimeMillis, nonce, count } = o;
  const eventType = typeof o.eventType === "string" ? o.eventType.toLowerCase() : null;
  if (typeof classId !== "string" || typeof objectId !== "string" || typeof nonce !== "string" || nonce.length === 0 || nonce.length > 200) return null;
  if (typeof expTimeMillis !== "number" || !Number.isSafeInteger(expTimeMillis)) return null;
  if (eventType !== "save" && eventType !== "del") return null;
  return { classId, objectId, eventType, expTimeMillis, nonce, count: typeof count === "number" && Number.isSafeInteger(count) ? count : null };
}

function parseJsonObject(text: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** `3388000000022141777.anything` -> `3388000000022141777`. */
function issuerPrefix(id: unknown): string | null {
  if (typeof id !== "string") return null;
  const m = /^(\d{1,30})\./.exec(id);
  return m ? m[1] : null;
}
