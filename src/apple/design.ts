/**
 * @module apple/design
 * The `apple` design object of a template (api.md "Wallet credentials": design only, never credentials):
 * colours, texts, which template field goes where on the pass, the barcode, lock-screen change messages,
 * images and rewards-enrollment personalization. `appleDesign` checks the object on its own;
 * design-check.ts checks it against the template it belongs to (field keys, per-style limits).
 * Pure; no I/O. Limits cite apple-wallet.md §2.2 (fields), §2.5 (images), §1.6 (personalization).
 */
import { z } from "zod";
import { fromBase64 } from "../lib/crypto";

export const TEMPLATE_PASS_TYPES = ["loyalty", "coupon", "eventTicket", "generic", "storeCard", "boardingPass"] as const;
export type TemplatePassType = (typeof TEMPLATE_PASS_TYPES)[number];
export type PassStyle = "storeCard" | "coupon" | "eventTicket" | "generic" | "boardingPass";

/** The pass.json style key of a template pass type (§2.1: exactly one per pass). */
export function passStyleOf(passType: TemplatePassType): PassStyle {
  return passType === "loyalty" ? "storeCard" : passType;
}

export const PLACEMENTS = ["header", "primary", "secondary", "auxiliary", "back"] as const;
export type Placement = (typeof PLACEMENTS)[number];

/** Front-of-pass limits per style (§2.2). `back` has no Apple limit; ours keeps passes readable. */
export function placementLimits(style: PassStyle): Record<Placement, number> {
  const boarding = style === "boardingPass";
  return { header: 3, primary: boarding ? 2 : 1, secondary: 4, auxiliary: boarding ? 5 : 4, back: MAX_BACK_FIELDS };
}
const MAX_BACK_FIELDS = 32;

/** Styles where a square barcode shares the front: ≤4 secondary + auxiliary together (§2.2). */
export const SHARED_ROW_STYLES: readonly PassStyle[] = ["coupon", "storeCard", "generic"];

export const BARCODE_FORMATS = {
  qr: "PKBarcodeFormatQR",
  pdf417: "PKBarcodeFormatPDF417",
  aztec: "PKBarcodeFormatAztec",
  code128: "PKBarcodeFormatCode128",
} as const;
export type BarcodeFormat = keyof typeof BARCODE_FORMATS;
export const SQUARE_BARCODES: readonly BarcodeFormat[] = ["qr", "aztec"];

export const TRANSIT_TYPES = ["PKTransitTypeAir", "PKTransitTypeBoat", "PKTransitTypeBus", "PKTransitTypeGeneric", "PKTransitTypeTrain"] as const;

/** PKPassPersonalizationField names (§1.6) and the keys Wallet sends for each. */
export const PERSONALIZATION_FIELDS = {
  PKPassPersonalizationFieldName: ["fullName", "givenName", "familyName"],
  PKPassPersonalizationFieldPostalCode: ["postalCode", "ISOCountryCode"],
  PKPassPersonalizationFieldEmailAddress: ["emailAddress"],
  PKPassPersonalizationFieldPhoneNumber: ["phoneNumber"],
} as const;
export type PersonalizationField = keyof typeof PERSONALIZATION_FIELDS;

/** Apple image file names a design may carry (§2.5, §1.6): base names with optional @2x / @3x. */
const IMAGE_BASES = ["icon", "logo", "strip", "thumbnail", "background", "footer", "personalizationLogo"] as const;
export type ImageBase = (typeof IMAGE_BASES)[number];
const IMAGE_NAME = new RegExp(`^(${IMAGE_BASES.join("|")})(@[23]x)?\\.png$`);
/** Images each style shows (§2.2); icon everywhere, personalizationLogo only with personalization. */
export const STYLE_IMAGES: Record<PassStyle, readonly ImageBase[]> = {
  boardingPass: ["icon", "logo", "footer"],
  coupon: ["icon", "logo", "strip"],
  storeCard: ["icon", "logo", "strip"],
  eventTicket: ["icon", "logo", "strip", "background", "thumbnail"],
  generic: ["icon", "logo", "thumbnail"],
};
/** Decoded bytes per image. A template body is capped at 256 KiB (api.md "Errors"), so this is a backstop. */
export const MAX_IMAGE_BYTES = 192 * 1024;
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export function imageBaseOf(name: string): ImageBase | null {
  const m = IMAGE_NAME.exec(name);
  return m ? (m[1] as ImageBase) : null;
}

/** Width and height from a PNG's IHDR chunk, or null when the bytes are not a PNG. */
export function pngSize(bytes: Uint8Array): { width: number; height: number } | null {
  if (bytes.length < 33 || PNG_SIGNATURE.some((b, i) => bytes[i] !== b)) return null;
  const ihdr = String.fromCharCode(bytes[12], bytes[13], bytes[14], bytes[15]);
  if (ihdr !== "IHDR") return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  return width > 0 && height > 0 ? { width, height } : null;
}

// --- the schema ------------------------------------------------------------------------------------

const FIELD_KEY = /^[a-z][a-z0-9_-]{0,63}$/;
/** Names that would reach Object.prototype if a map were indexed with them. */
const PROTO_NAMES = new Set(Object.getOwnPropertyNames(Object.prototype));
const fieldKey = z
  .string()
  .regex(FIELD_KEY, "must be a template field key (^[a-z][a-z0-9_-]{0,63}$)")
  .refine((k) => !PROTO_NAMES.has(k), "is a reserved name");

const RGB = /^rgb\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*\)$/;
const HEX = /^#([0-9a-fA-F]{2})([0-9a-fA-F]{2})([0-9a-fA-F]{2})$/;

/** `#rrggbb` or `rgb(r, g, b)`, normalised to Apple's `rgb(r, g, b)` (§2.5). */
export const colour = z.string().transform((s, ctx) => {
  const t = s.trim();
  const hex = HEX.exec(t);
  const rgb = hex ? hex.slice(1).map((h) => parseInt(h, 16)) : RGB.exec(t)?.slice(1).map(Number);
  if (!rgb || rgb.some((n) => n > 255)) {
    ctx.addIssue({ code: "custom", message: "must be #rrggbb or rgb(r, g, b) with 0-255 channels" });
    return z.NEVER;
  }
  return `rgb(${rgb[0]}, ${rgb[1]}, ${rgb[2]})`;
});

const text = (max: number) => z.string().trim().min(1).max(max);
/** Builds a plain map with data properties only (`Object.fromEntries` never touches a prototype). */
const safeMap = <V>(entries: [string, V][]) => Object.fromEntries(entries) as Record<string, V>;

const keyList = (max: number) => z.array(fieldKey).max(max).optional();
const placement = z
  .object({ header: keyList(5), primary: keyList(5), secondary: keyList(5), auxiliary: keyList(5), back: keyList(MAX_BACK_FIELDS) })
  .strict()
  .superRefine((p, ctx) => {
    const seen = new Map<string, string>();
    for (const where of PLACEMENTS) {
      (p[where] ?? []).forEach((key, i) => {
        const first = seen.get(key);
        if (first) ctx.addIssue({ code: "custom", path: [where, i], message: `"${key}" is already placed in ${first}` });
        else seen.set(key, where);
      });
    }
  });

/**
 * A JSON object whose own keys are read as they arrived (including a `__proto__` key from
 * JSON.parse, which a record schema would turn into a prototype); `each` checks one entry and returns
 * the value to keep, or undefined after adding an issue.
 */
function checkedMap<V>(each: (key: string, raw: unknown, issue: (message: string) => undefined) => V | undefined) {
  return z.unknown().transform((m, ctx) => {
    if (typeof m !== "object" || m === null || Array.isArray(m)) {
      ctx.addIssue({ code: "custom", message: "must be an object" });
      return z.NEVER;
    }
    const out: [string, V][] = [];
    for (const key of Object.keys(m)) {
      let bad = false;
      const v = each(key, (m as Record<string, unknown>)[key], (message): undefined => {
        bad = true;
        ctx.addIssue({ code: "custom", path: [key], message });
      });
      if (!bad && v !== undefined) out.push([key, v]);
    }
    return safeMap(out);
  });
}

const barcode = z
  .object({
    field: fieldKey,
    format: z.enum(Object.keys(BARCODE_FORMATS) as [BarcodeFormat, ...BarcodeFormat[]]),
    // §2.3: an IANA character set name; these two cover what scanners expect.
    messageEncoding: z.enum(["iso-8859-1", "utf-8"]).default("iso-8859-1"),
    altTextField: fieldKey.optional(),
  })
  .strict();

const changeMessages = checkedMap<string>((key, raw, issue) => {
  const k = fieldKey.safeParse(key);
  if (!k.success) return issue(k.error.issues[0].message);
  if (typeof raw !== "string" || raw.trim() === "" || raw.length > 256) return issue("must be a text of 1-256 characters");
  // §2.2: Wallet puts the new value where %@ stands; without it the notice would not say what changed.
  if (!raw.includes("%@")) return issue('must contain "%@" (replaced by the new value)');
  return raw;
});

const images = checkedMap<string>((name, raw, issue) => {
  if (!imageBaseOf(name)) return issue(`is not an Apple image name (${IMAGE_BASES.join(", ")}, with optional @2x or @3x, .png)`);
  if (typeof raw !== "string" || raw.length > Math.ceil((MAX_IMAGE_BYTES * 4) / 3) + 1024)
    return issue(`must be base64 PNG of at most ${MAX_IMAGE_BYTES} bytes`);
  const b64 = raw.replace(/\s+/g, "");
  let bytes: Uint8Array;
  try {
    bytes = fromBase64(b64);
  } catch {
    return issue("is not valid base64");
  }
  if (bytes.length > MAX_IMAGE_BYTES) return issue(`is larger than ${MAX_IMAGE_BYTES} bytes`);
  if (!pngSize(bytes)) return issue("is not a PNG image");
  return b64;
});

const personalization = z
  .object({
    requiredFields: z
      .array(z.enum(Object.keys(PERSONALIZATION_FIELDS) as [PersonalizationField, ...PersonalizationField[]]))
      .min(1)
      .max(4)
      .refine((a) => new Set(a).size === a.length, "must not repeat a field"),
    description: text(1024),
    // May hold <a href> links (§1.6); shown by Wallet, never by us.
    termsAndConditions: text(16 * 1024).optional(),
  })
  .strict();

const EC_PUBLIC_KEY_OID = [0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const P256_OID = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/** A structural check: a DER SEQUENCE naming id-ecPublicKey and prime256v1. */
function isP256Spki(b64: string): boolean {
  let der: Uint8Array;
  try {
    der = fromBase64(b64.replace(/\s+/g, ""));
  } catch {
    return false;
  }
  const has = (oid: number[]) => der.some((_, i) => oid.every((b, j) => der[i + j] === b));
  return der[0] === 0x30 && der.length <= 200 && has(EC_PUBLIC_KEY_OID) && has(P256_OID);
}

const nfc = z
  .object({
    // §2.5: at most 64 bytes are used; longer is truncated by the device, so refuse it here.
    message: z.string().min(1).refine((s) => new TextEncoder().encode(s).length <= 64, "must be at most 64 bytes"),
    // Required by Apple's NFC dictionary: an ECDH P-256 key as base64 X.509 SubjectPublicKeyInfo.
    encryptionPublicKey: z.string().max(512).refine(isP256Spki, "must be a base64 X.509 SubjectPublicKeyInfo of a P-256 key"),
    requiresAuthentication: z.boolean().optional(),
  })
  .strict();

export const appleDesign = z
  .object({
    description: text(256).optional(),
    organizationName: text(128).optional(),
    logoText: text(64).optional(),
    backgroundColor: colour.optional(),
    foregroundColor: colour.optional(),
    labelColor: colour.optional(),
    fields: placement.optional(),
    barcode: barcode.optional(),
    changeMessages: changeMessages.optional(),
    /** A date field whose value becomes `expirationDate` while the pass is active (§2.4). */
    expirationField: fieldKey.optional(),
    transitType: z.enum(TRANSIT_TYPES).optional(),
    sharingProhibited: z.boolean().optional(),
    groupingIdentifier: text(128).optional(),
    images: images.optional(),
    personalization: personalization.optional(),
    nfc: nfc.optional(),
  })
  .strict();

export type AppleDesign = z.output<typeof appleDesign>;
export type AppleDesignInput = z.input<typeof appleDesign>;
/** What pass.json needs: the design without its images (which live outside the hot template row). */
export type AppleDesignCore = Omit<AppleDesign, "images">;

export function splitDesignImages(design: AppleDesign): { core: AppleDesignCore; images: Record<string, string> } {
  const { images: imgs, ...core } = design;
  return { core, images: imgs ?? {} };
}

/** base64 images to bytes, for the bundle. */
export function decodeDesignImages(images: Record<string, string>): Record<string, Uint8Array> {
  return safeMap(Object.entries(images).map(([name, b64]) => [name, fromBase64(b64)]));
}
