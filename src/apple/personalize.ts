/**
 * @module apple/personalize
 * The body Wallet POSTs to `/v1/passes/{type}/{serial}/personalize` (apple-wallet.md §1.6, endpoint 6):
 * `{personalizationToken, requiredPersonalizationInfo: {...}}`. No Authorization header is documented,
 * so the body is untrusted PII: known keys only, strings only, capped, and the token opaque.
 * `missingPersonalization` says which of the template's required fields the holder did not send. The
 * signed answer is `signPersonalizationToken` (pkpass.ts).
 */
import { z } from "zod";
import { PERSONALIZATION_FIELDS, type PersonalizationField } from "./design";

const info = z.string().trim().min(1).max(256);

/**
 * The token Wallet sends is opaque (§1.6 says only "sign the token"), and we answer with a CMS
 * signature by the pass certificate over its bytes: the same signature a `.pkpass` carries over its
 * manifest.json. Signing whatever arrives would hand anyone a pass signature over a manifest of their
 * own. So only an opaque token is signed: base64 / base64url / hex characters, bounded, which can
 * never be JSON (no `{`, `"`, `:` or whitespace), hence never a manifest.
 */
export const PERSONALIZATION_TOKEN = /^[A-Za-z0-9+/=_-]{1,1024}$/;

/** Apple's submitted keys (§1.6); unknown keys are dropped, never stored. */
export const personalizeBody = z.object({
  personalizationToken: z.string().regex(PERSONALIZATION_TOKEN, "must be an opaque token (letters, digits, + / = _ -; at most 1024)"),
  requiredPersonalizationInfo: z
    .object({
      fullName: info.optional(),
      givenName: info.optional(),
      familyName: info.optional(),
      emailAddress: info.optional(),
      postalCode: info.optional(),
      ISOCountryCode: z.string().regex(/^[A-Za-z]{2}$/, "must be a two-letter country code").optional(),
      phoneNumber: info.optional(),
    })
    .default({}),
});
export type PersonalizeBody = z.output<typeof personalizeBody>;
export type PersonalizationInfo = PersonalizeBody["requiredPersonalizationInfo"];

/**
 * The required fields the holder left empty. A name counts when fullName or both given and family
 * names are present; a postal code needs `postalCode` (the country is sent only when the system knows it).
 */
export function missingPersonalization(data: PersonalizationInfo, required: readonly PersonalizationField[]): PersonalizationField[] {
  const has: Record<PersonalizationField, boolean> = {
    PKPassPersonalizationFieldName: !!data.fullName || (!!data.givenName && !!data.familyName),
    PKPassPersonalizationFieldPostalCode: !!data.postalCode,
    PKPassPersonalizationFieldEmailAddress: !!data.emailAddress,
    PKPassPersonalizationFieldPhoneNumber: !!data.phoneNumber,
  };
  return required.filter((f) => f in PERSONALIZATION_FIELDS && !has[f]);
}
