/**
 * @module google/save-link
 * "Add to Google Wallet" links (google-wallet.md §4; Google "JWT" reference): a `savetowallet` JWT
 * signed RS256 with the service account's key, `{iss: client email, aud: "google", typ:
 * "savetowallet", iat, origins, payload: {<resource>Objects: [...]}}`, appended to
 * https://pay.google.com/gp/v/save/. Google: "The maximum safe length for the JWT is 1800
 * characters". A skinny JWT (`{id, classId}` of an object already inserted through the REST API) is
 * the default and always fits; an inline object is only for an object not inserted yet, and is
 * refused when it would not fit. Pure apart from the signature (the clock is passed in).
 */
import { SignJWT } from "jose";
import { err, ok, type Result } from "../lib/result";
import type { Body } from "./body-parts";
import { RESOURCE_NAMES, type GoogleResource } from "./resources";

export const SAVE_URL_PREFIX = "https://pay.google.com/gp/v/save/";
export const MAX_SAVE_JWT_LENGTH = 1800;

export interface SaveLinkInput {
  /** The service account's RS256 key (auth.ts signingKey). */
  key: CryptoKey;
  serviceAccountEmail: string;
  /** From the credentials; only matters for the JavaScript button. */
  origins: readonly string[];
  resource: GoogleResource;
  /** The full object body (objectBody). */
  object: Body;
  /** Whether the object was inserted through the REST API: then the JWT carries only its ids. */
  objectExists: boolean;
  now: number;
}

export interface SaveLink {
  url: string;
  jwt: string;
  variant: "skinny" | "inline";
}

export interface SaveLinkFailure {
  reason: "too_long";
  message: string;
  length: number;
}

export async function saveLink(input: SaveLinkInput): Promise<Result<SaveLink, SaveLinkFailure>> {
  const variant = input.objectExists ? "skinny" : "inline";
  const object = input.objectExists ? { id: input.object.id, classId: input.object.classId } : input.object;
  const jwt = await new SignJWT({
    typ: "savetowallet",
    origins: [...input.origins],
    payload: { [RESOURCE_NAMES[input.resource].objectsKey]: [object] },
  })
    .setProtectedHeader({ alg: "RS256", typ: "JWT" })
    .setIssuer(input.serviceAccountEmail)
    .setAudience("google")
    .setIssuedAt(Math.floor(input.now / 1000))
    .sign(input.key);
  if (jwt.length > MAX_SAVE_JWT_LENGTH) {
    return err({
      reason: "too_long",
      length: jwt.length,
      message:
        variant === "inline"
          ? `the save JWT with the object inline is ${jwt.length} characters (Google's safe maximum is ${MAX_SAVE_JWT_LENGTH}); insert the object first and use a skinny link`
          : `the save JWT is ${jwt.length} characters (Google's safe maximum is ${MAX_SAVE_JWT_LENGTH}); use fewer origins`,
    });
  }
  return ok({ url: SAVE_URL_PREFIX + jwt, jwt, variant });
}
