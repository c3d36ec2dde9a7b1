/**
 * @module google/design
 * The `google` design object of a template (api.md "Templates": design only, never credentials):
 * colours, images, names, and which template fields fill which Google Wallet slots. Checked with a
 * strict zod schema (unknown keys, `__proto__` and `constructor` are rejected), then against the
 * template's fields and pass type, so a design that names a missing field fails at template save
 * and not at the first Google push.
 */
import { z } from "zod";
import type { FieldDef } from "../db/schema";
import type { FieldIssue } from "../lib/errors";
import { zodIssues } from "../lib/validation";
import { err, ok, type Result } from "../lib/result";

/** Barcode types we offer: the canonical spellings of Google's `Barcode.type` enum. */
export const BARCODE_TYPES = ["QR_CODE", "PDF_417", "AZTEC", "CODE_128", "CODE_39", "DATA_MATRIX", "EAN_13", "EAN_8", "UPC_A", "ITF_14", "CODABAR", "TEXT_ONLY"] as const;
export const REDEMPTION_CHANNELS = ["INSTORE", "ONLINE", "BOTH", "TEMPORARY_PRICE_REDUCTION"] as const;
/** Google displays at most 10 text modules from the object (TextModuleData). */
export const MAX_TEXT_MODULES = 10;

const fieldKey = z.string().regex(/^[a-z][a-z0-9_-]{0,63}$/, "must be a template field key");
const text = (max: number) => z.string().trim().min(1).max(max);
const https = z
  .string()
  .max(2000)
  .refine((s) => {
    try {
      const u = new URL(s);
      return u.protocol === "https:" && !u.username && !u.password;
    } catch {
      return false;
    }
  }, "must be an absolute https URL");
const color = z.string().regex(/^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/, "must be #rgb or #rrggbb");

const barcode = z.object({ field: fieldKey, type: z.enum(BARCODE_TYPES).default("QR_CODE"), alternateTextField: fieldKey.optional() }).strict();

const loyalty = z
  .object({ accountNameField: fieldKey.optional(), accountIdField: fieldKey.optional(), pointsField: fieldKey.optional(), pointsLabel: text(20).optional(), rewardsTierField: fieldKey.optional() })
  .strict();
const offer = z
  .object({ provider: text(60).optional(), redemptionChannel: z.enum(REDEMPTION_CHANNELS).default("BOTH"), details: text(2000).optional(), finePrint: text(2000).optional() })
  .strict();
const eventTicket = z
  .object({
    venueName: text(200).optional(),
    venueAddress: text(500).optional(),
    ticketHolderNameField: fieldKey.optional(),
    ticketNumberField: fieldKey.optional(),
    seatField: fieldKey.optional(),
    rowField: fieldKey.optional(),
    sectionField: fieldKey.optional(),
    gateField: fieldKey.optional(),
  })
  .strict()
  .refine((e) => (e.venueName === undefined) === (e.venueAddress === undefined), "venueName and venueAddress go together (Google requires both)");
const giftCard = z
  .object({ cardNumberField: fieldKey, pinField: fieldKey.optional(), balanceField: fieldKey.optional(), currencyCode: z.string().regex(/^[A-Z]{3}$/, "must be an ISO 4217 code such as EUR").optional() })
  .strict()
  .refine((g) => g.balanceField === undefined || g.currencyCode !== undefined, "balanceField needs currencyCode");

export const googleDesignSchema = z
  .object({
    /** Issuer name on the card; defaults to the project's name. */
    issuerName: text(60).optional(),
    /** Program name (loyalty, gift card), offer title, event name, or generic header; defaults to the template name. */
    title: text(120).optional(),
    /** Generic passes: the top row (business name); defaults to the issuer name. */
    cardTitle: text(60).optional(),
    /** Generic passes: the small line above the header. */
    subheader: text(60).optional(),
    /** Generic passes: take the header from this field instead of `title`. */
    headerField: fieldKey.optional(),
    hexBackgroundColor: color.optional(),
    logoUri: https.optional(),
    heroImageUri: https.optional(),
    homepageUri: https.optional(),
    /** BCP 47 language of the texts. */
    language: z.string().regex(/^[a-zA-Z]{2,3}(?:-[a-zA-Z0-9]{2,8})*$/, "must be a language tag such as en or de-AT").default("en"),
    barcode: barcode.optional(),
    /** Fields shown as text modules, in order; default: every field not placed elsewhere. */
    textModules: z.array(fieldKey).max(MAX_TEXT_MODULES).optional(),
    validFromField: fieldKey.optional(),
    validUntilField: fieldKey.optional(),
    /** A change to one of these fields sends the holder a notifying message (at most 3 a day). */
    notifyOnChange: z.array(fieldKey).max(64).optional(),
    loyalty: loyalty.optional(),
    offer: offer.optional(),
    eventTicket: eventTicket.optional(),
    /** storeCard templates only: make the pass a Google gift card instead of a loyalty card. */
    giftCard: giftCard.optional(),
  })
  .strict();

export type GoogleDesign = z.output<typeof googleDesignSchema>;

const HOSTILE = new Set(["__proto__", "constructor", "prototype"]);

/** Paths of own keys that must never reach an object spread or a lookup. */
function hostileKeys(value: unknown, path: string, depth: number, out: FieldIssue[]): void {
  if (depth > 6 || !value || typeof value !== "object") return;
  for (const key of Object.keys(value)) {
    const p = path ? `${path}.${key}` : key;
    if (HOSTILE.has(key)) out.push({ path: `google.${p}`, message: "is not allowed" });
    else hostileKeys((value as Record<string, unknown>)[key], p, depth + 1, out);
  }
}

/** Which design sections apply to which pass types. */
const SECTION_TYPES: Record<"loyalty" | "offer" | "eventTicket" | "giftCard", readonly string[]> = {
  loyalty: ["loyalty", "storeCard"],
  offer: ["coupon"],
  eventTicket: ["eventTicket"],
  giftCard: ["storeCard"],
};

/**
 * Parses a template's `google` design (null/undefined = an empty design) and checks it against the
 * template: every named field exists, validity fields are dates, a balance is a number, and each
 * section belongs to the template's pass type. Issue paths start with `google.`.
 */
export function parseGoogleDesign(raw: unknown, fields: readonly FieldDef[], passType: string): Result<GoogleDesign, FieldIssue[]> {
  const hostile: FieldIssue[] = [];
  hostileKeys(raw, "", 0, hostile);
  if (hostile.length) return err(hostile);
  const parsed = googleDesignSchema.safeParse(raw ?? {});
  if (!parsed.success) return err(zodIssues(parsed.error).map((i) => ({ ...i, path: i.path === "(body)" ? "google" : `google.${i.path}` })));
  const d = parsed.data;
  const issues: FieldIssue[] = [];
  const byKey = new Map(fields.map((f) => [f.key, f]));
  const need = (path: string, key: string | undefined, types?: readonly string[]) => {
    if (key === undefined) return;
    const f = byKey.get(key);
    if (!f) issues.push({ path: `google.${path}`, message: `names "${key}", which is not a field of this template` });
    else if (types && !types.includes(f.type)) issues.push({ path: `google.${path}`, message: `must name a ${types.join(" or ")} field; "${key}" is ${f.type}` });
  };
  need("headerField", d.headerField);
  need("barcode.field", d.barcode?.field);
  need("barcode.alternateTextField", d.barcode?.alternateTextField);
  d.textModules?.forEach((k, i) => need(`textModules.${i}`, k));
  d.notifyOnChange?.forEach((k, i) => need(`notifyOnChange.${i}`, k));
  need("validFromField", d.validFromField, ["date"]);
  need("validUntilField", d.validUntilField, ["date"]);
  if (d.loyalty) {
    need("loyalty.accountNameField", d.loyalty.accountNameField);
    need("loyalty.accountIdField", d.loyalty.accountIdField);
    need("loyalty.pointsField", d.loyalty.pointsField, ["number", "text"]);
    need("loyalty.rewardsTierField", d.loyalty.rewardsTierField);
  }
  if (d.eventTicket) {
    for (const k of ["ticketHolderNameField", "ticketNumberField", "seatField", "rowField", "sectionField", "gateField"] as const) need(`eventTicket.${k}`, d.eventTicket[k]);
  }
  if (d.giftCard) {
    need("giftCard.cardNumberField", d.giftCard.cardNumberField);
    need("giftCard.pinField", d.giftCard.pinField);
    need("giftCard.balanceField", d.giftCard.balanceField, ["number"]);
  }
  for (const [section, types] of Object.entries(SECTION_TYPES)) {
    if (d[section as keyof typeof SECTION_TYPES] !== undefined && !types.includes(passType)) {
      issues.push({ path: `google.${section}`, message: `applies only to ${types.join(" and ")} templates` });
    }
  }
  return issues.length ? err(issues) : ok(d);
}
