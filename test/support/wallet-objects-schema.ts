/**
 * A test-only, hand-written subset of Google's Wallet Objects v1 REST schema (walletobjects v1
 * discovery document, revision 20260601): exactly the types, field names, nesting and enum values
 * passhook emits, with Google's "Required" fields required and every unknown key rejected, so a
 * misspelt or misplaced field fails a test instead of being silently ignored by Google.
 * Enums list the canonical (upper-case) spellings only; the deprecated lower-case aliases are not
 * accepted because we never want to send them. Independent of src/google on purpose.
 */
import { z } from "zod";

const id = z.string().regex(/^\d+\.[A-Za-z0-9._-]+$/, "Google id: issuerId.identifier with [A-Za-z0-9._-]");
const withScheme = z.string().regex(/^[a-z][a-z0-9+.-]*:\/\//i, "URIs must have a scheme");

const TranslatedString = z.object({ language: z.string().min(2), value: z.string().min(1) }).strict();
const LocalizedString = z.object({ defaultValue: TranslatedString, translatedValues: z.array(TranslatedString).optional() }).strict();
const ImageUri = z.object({ uri: withScheme, description: z.string().optional() }).strict();
const Image = z.object({ sourceUri: ImageUri, contentDescription: LocalizedString.optional() }).strict();
const Uri = z.object({ uri: withScheme, description: z.string().optional(), id: z.string().optional() }).strict();
const LinksModuleData = z.object({ uris: z.array(Uri) }).strict();
const TextModuleData = z
  .object({ header: z.string().optional(), body: z.string().optional(), id: z.string().regex(/^[A-Za-z0-9_-]+$/, "no dots in text module ids").optional() })
  .strict();
const DateTime = z.object({ date: z.string().refine((s) => !Number.isNaN(Date.parse(s)), "ISO 8601 date-time") }).strict();
const TimeInterval = z
  .object({ start: DateTime.optional(), end: DateTime.optional() })
  .strict()
  .refine((t) => {
    const off = (d?: { date: string }) => (d ? /(Z|[+-]\d{2}:?\d{2})$/.test(d.date) : null);
    const a = off(t.start);
    const b = off(t.end);
    return a === null || b === null || a === b;
  }, "if one side has an offset the other must too");
const BarcodeType = z.enum(["AZTEC", "CODE_39", "CODE_128", "CODABAR", "DATA_MATRIX", "EAN_8", "EAN_13", "ITF_14", "PDF_417", "QR_CODE", "UPC_A", "TEXT_ONLY"]);
const Barcode = z.object({ type: BarcodeType, value: z.string().min(1), alternateText: z.string().optional(), renderEncoding: z.literal("UTF_8").optional() }).strict();
const CallbackOptions = z.object({ url: z.string().startsWith("https://") }).strict();
export const Message = z
  .object({
    id: z.string().optional(),
    header: z.string().optional(),
    body: z.string().optional(),
    messageType: z.enum(["TEXT", "TEXT_AND_NOTIFY"]),
    displayInterval: TimeInterval.optional(),
  })
  .strict();
const Money = z.object({ micros: z.string().regex(/^-?\d+$/, "int64 as a string"), currencyCode: z.string().regex(/^[A-Z]{3}$/) }).strict();
const LoyaltyPointsBalance = z
  .object({ string: z.string().optional(), int: z.number().int().min(-(2 ** 31)).max(2 ** 31 - 1).optional(), double: z.number().optional(), money: Money.optional() })
  .strict()
  .refine((b) => Object.keys(b).length === 1, "exactly one of string, int, double, money");
const LoyaltyPoints = z.object({ label: z.string().optional(), balance: LoyaltyPointsBalance }).strict();
const EventSeat = z.object({ seat: LocalizedString.optional(), row: LocalizedString.optional(), section: LocalizedString.optional(), gate: LocalizedString.optional() }).strict();
const EventVenue = z.object({ name: LocalizedString, address: LocalizedString }).strict();
const State = z.enum(["ACTIVE", "COMPLETED", "EXPIRED", "INACTIVE"]);
const ReviewStatus = z.enum(["UNDER_REVIEW", "APPROVED", "REJECTED", "DRAFT"]);
const hexColor = z.string().regex(/^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/);

const classCommon = {
  id,
  callbackOptions: CallbackOptions.optional(),
  messages: z.array(Message).max(10).optional(),
  textModulesData: z.array(TextModuleData).optional(),
  linksModuleData: LinksModuleData.optional(),
};
const styledClass = {
  ...classCommon,
  issuerName: z.string().min(1),
  reviewStatus: ReviewStatus,
  hexBackgroundColor: hexColor.optional(),
  heroImage: Image.optional(),
  homepageUri: Uri.optional(),
};

export const classShapes = {
  loyalty: {
    ...styledClass,
    programName: z.string().min(1),
    programLogo: Image,
    accountNameLabel: z.string().optional(),
    accountIdLabel: z.string().optional(),
    rewardsTierLabel: z.string().optional(),
  },
  offer: {
    ...styledClass,
    title: z.string().min(1),
    provider: z.string().min(1),
    redemptionChannel: z.enum(["INSTORE", "ONLINE", "BOTH", "TEMPORARY_PRICE_REDUCTION"]),
    titleImage: Image.optional(),
    details: z.string().optional(),
    finePrint: z.string().optional(),
  },
  eventTicket: { ...styledClass, eventName: LocalizedString, logo: Image.optional(), venue: EventVenue.optional() },
  giftCard: {
    ...styledClass,
    merchantName: z.string().optional(),
    programLogo: Image.optional(),
    cardNumberLabel: z.string().optional(),
    pinLabel: z.string().optional(),
  },
  generic: { ...classCommon },
};

const objectCommon = {
  id,
  classId: id,
  state: State,
  barcode: Barcode.optional(),
  textModulesData: z.array(TextModuleData).max(10).optional(),
  validTimeInterval: TimeInterval.optional(),
  messages: z.array(Message).max(10).optional(),
  heroImage: Image.optional(),
};

export const objectShapes = {
  loyalty: { ...objectCommon, accountName: z.string().optional(), accountId: z.string().optional(), loyaltyPoints: LoyaltyPoints.optional() },
  offer: { ...objectCommon },
  eventTicket: { ...objectCommon, hexBackgroundColor: hexColor.optional(), ticketHolderName: z.string().optional(), ticketNumber: z.string().optional(), seatInfo: EventSeat.optional() },
  giftCard: { ...objectCommon, cardNumber: z.string().min(1), pin: z.string().optional(), balance: Money.optional() },
  generic: {
    ...objectCommon,
    cardTitle: LocalizedString,
    header: LocalizedString,
    subheader: LocalizedString.optional(),
    logo: Image.optional(),
    hexBackgroundColor: hexColor.optional(),
  },
};

type Kind = keyof typeof objectShapes;

export const classSchema = (kind: Kind) => z.object(classShapes[kind]).strict();
export const objectSchema = (kind: Kind) => z.object(objectShapes[kind]).strict();

/** A PATCH body: any subset of the object's fields, each a value or null (clear); never the id. */
export function objectPatchSchema(kind: Kind) {
  const { id: _id, ...rest } = objectShapes[kind];
  const shape = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, (v as z.ZodType).nullable().optional()]));
  return z.object(shape).strict();
}

/** The JWT payload `Resources` keys we may send, each to its object schema. */
export const RESOURCE_OBJECT_KEYS: Record<string, Kind> = {
  loyaltyObjects: "loyalty",
  offerObjects: "offer",
  eventTicketObjects: "eventTicket",
  genericObjects: "generic",
  giftCardObjects: "giftCard",
};

/** Throws with every issue when `value` does not match, so a failed test names the bad path. */
export function expectValid(schema: z.ZodType, value: unknown, what: string): void {
  const r = schema.safeParse(value);
  if (!r.success) throw new Error(`${what} is not a valid Wallet Objects body:\n${r.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`).join("\n")}`);
}
