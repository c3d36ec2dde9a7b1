/**
 * @module apple/personalization
 * Rewards enrollment (apple-wallet.md §1.6, endpoint 6): Wallet posts what the holder entered; we keep
 * it encrypted (personal data: AES-GCM under MASTER_KEY, bound to the pass), answer with the
 * personalization token signed by the pass certificate, and emit the `personalize` callback with the
 * fields. The endpoint has no documented credential, so it accepts one sign-up per pass: a repeat with
 * the same data and the same token (a retry whose answer was lost) is answered again without a second
 * callback, anything else is a 409. Only the first token is ever signed (its SHA-256 is stored with
 * the sign-up), only opaque tokens are signed at all (personalize.ts), and each pass may call at most
 * APPLE_LOG_RATE_LIMIT times a minute: the pass certificate's signature is never an oracle. Once
 * personalized, bundles leave personalization.json out (bundle.ts), and the pass's devices are told it
 * changed.
 *
 * Whoever calls first with a pass's type and serial wins: Apple gives the endpoint no credential, so a
 * caller who knows the serial can sign up before the holder does (README "Apple Wallet").
 */
import { getDb } from "../db/client";
import { deletePersonalization, findPersonalization, insertPersonalization } from "../db/queries/apple-templates";
import { constantTimeEqual, decryptSecret, encryptSecret, sha256Hex } from "../lib/crypto";
import { AppError, notFound } from "../lib/errors";
import { parseWith } from "../lib/validation";
import { emitHolderEvent } from "../passes";
import { signerMaterial } from "./credentials";
import { missingPersonalization, personalizeBody, type PersonalizationInfo } from "./personalize";
import { loadSigner, signPersonalizationToken } from "./pkpass";
import { requestPassPush } from "./subscriber";
import { storedDesign } from "./template-design";
import { knownPass, type PassAddress } from "./web-service";

type PersonalizeEnv = Pick<Env, "DB" | "MASTER_KEY" | "PASS_OBJECT" | "APPLE_QUEUE" | "APPLE_LOG_RATE_LIMIT">;

const context = (passId: number) => `apple-personalization:${passId}`;

/** Known keys only, in a fixed order, so a repeat compares equal. */
function canonical(info: PersonalizationInfo): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ["fullName", "givenName", "familyName", "emailAddress", "postalCode", "ISOCountryCode", "phoneNumber"] as const) {
    const v = info[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** Stores the sign-up and returns the signed token Wallet expects as the answer body. */
export async function personalizePass(env: PersonalizeEnv, at: PassAddress, raw: unknown, now = Date.now()): Promise<Uint8Array> {
  const { wp, creds } = await knownPass(env, at);
  const wanted = storedDesign(wp.template).personalization;
  if (!wanted) throw notFound("Personalizable pass");
  // Before the body is checked (the route has read it, at most 16 KiB): refused requests count too.
  // Wallet retries with growing waits (§1.1).
  const { success } = await env.APPLE_LOG_RATE_LIMIT.limit({ key: `personalize:${wp.pass.projectId}:${wp.pass.id}` });
  if (!success) throw new AppError("rate_limited", "Too many personalization requests for this pass; try again in a minute.", null, { "Retry-After": "60" });
  const body = parseWith(personalizeBody, raw);
  const missing = missingPersonalization(body.requiredPersonalizationInfo, wanted.requiredFields);
  if (missing.length)
    throw new AppError("validation_failed", `Missing required personalization: ${missing.join(", ")}.`, {
      issues: missing.map((f) => ({ path: "requiredPersonalizationInfo", message: `${f} is required` })),
    });
  const data = canonical(body.requiredPersonalizationInfo);
  const json = JSON.stringify(data);
  const tokenHash = await sha256Hex(body.personalizationToken);
  const db = getDb(env.DB);
  const stored = await insertPersonalization(db, {
    passId: wp.pass.id,
    projectId: wp.pass.projectId,
    dataEnc: await encryptSecret(env.MASTER_KEY, json, context(wp.pass.id)),
    personalizedAt: now,
    tokenHash,
  });
  if (stored) {
    try {
      await emitHolderEvent(env, wp.pass.id, { event: "personalize", platform: "ios", source: "apple", personalization: data });
    } catch (e) {
      // Undo, so Wallet's retry stores it again and the callback is not lost.
      await deletePersonalization(db, wp.pass.id).catch(() => undefined);
      throw e;
    }
    await requestPassPush(env, wp.pass.projectId, wp.pass.id, now, now);
  } else {
    // A repeat is answered only when it is the same sign-up with the same token; a row from before
    // token hashes were kept (token_hash null) is never signed again.
    const existing = await findPersonalization(db, wp.pass.id);
    const before = existing ? await decryptSecret(env.MASTER_KEY, existing.dataEnc, context(wp.pass.id)) : null;
    const sameToken = existing?.tokenHash ? await constantTimeEqual(existing.tokenHash, tokenHash) : false;
    if (before !== json || !sameToken) throw new AppError("conflict", "This pass has been personalized already.");
  }
  return signPersonalizationToken(body.personalizationToken, await loadSigner(signerMaterial(creds)), now);
}
