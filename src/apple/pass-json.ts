/**
 * @module apple/pass-json
 * pass.json for one pass (apple-wallet.md §2), from its template, its design and its stored values.
 * Pure and deterministic: the same input gives the same object with the same key order, so the same
 * bytes, which keeps Last-Modified / 304 answers and Wallet's "pass unchanged" check honest (§1.3, §1.4).
 * It does not sign, zip, or read images (pkpass.ts does), and it never changes the serial number or
 * the authentication token of a pass (§1.2).
 */
import type { FieldDef, FieldValues, PassStatus } from "../db/schema";
import { BARCODE_FORMATS, passStyleOf, placementLimits, SHARED_ROW_STYLES, SQUARE_BARCODES, type AppleDesignCore, type BarcodeFormat, type Placement, type TemplatePassType } from "./design";

export interface PassJsonInput {
  template: { name: string; passType: TemplatePassType; fields: readonly FieldDef[]; design: AppleDesignCore | null };
  pass: { serialNumber: string; status: PassStatus; fields: FieldValues; updatedAt: number; archivedAt?: number | null };
  identity: { passTypeIdentifier: string; teamIdentifier: string; organizationName: string };
  /** `{PUBLIC_URL}/apple` (see `appleWebServiceURL`). */
  webServiceURL: string;
  /** The pass's ApplePass secret, at least 16 characters (§1.2). */
  authenticationToken: string;
  now: number;
}

export type PassFieldContent = {
  key: string;
  label?: string;
  value: string | number;
  changeMessage?: string;
  dateStyle?: string;
  timeStyle?: string;
  ignoresTimeZone?: boolean;
  dataDetectorTypes?: string[];
};

export type PassJson = Record<string, unknown>;

const FIELD_ARRAYS: Record<Placement, string> = {
  header: "headerFields",
  primary: "primaryFields",
  secondary: "secondaryFields",
  auxiliary: "auxiliaryFields",
  back: "backFields",
};
export const MIN_AUTH_TOKEN_LENGTH = 16;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** `{PUBLIC_URL}/apple`, without a trailing slash (§1.5: store it without one). */
export function appleWebServiceURL(publicUrl: string): string {
  return `${publicUrl.replace(/\/+$/, "")}/apple`;
}

/** A W3C date-time with seconds and a zone, as §2.3/§2.4 ask (no milliseconds). */
export function w3cDate(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

/**
 * Builds the pass.json object. Throws only on input our own code must never produce (a short
 * authentication token), never on a holder's or sender's data.
 */
export function buildPassJson(input: PassJsonInput): PassJson {
  const { template, pass, identity } = input;
  if (input.authenticationToken.length < MIN_AUTH_TOKEN_LENGTH) throw new Error("authenticationToken must have at least 16 characters");
  const design: AppleDesignCore = template.design ?? {};
  const style = passStyleOf(template.passType);
  const defs = new Map(template.fields.map((f) => [f.key, f]));
  const barcodeKey = design.barcode?.field ?? template.fields.find((f) => f.type === "barcode")?.key;
  const placement =
    design.fields ?? defaultPlacement(template.passType, template.fields, barcodeKey ? { field: barcodeKey, format: design.barcode?.format ?? "qr" } : undefined);

  const styleObject: Record<string, unknown> = {};
  if (style === "boardingPass") styleObject.transitType = design.transitType ?? "PKTransitTypeGeneric";
  for (const where of Object.keys(FIELD_ARRAYS) as Placement[]) {
    const out: PassFieldContent[] = [];
    for (const key of placement[where] ?? []) {
      const def = defs.get(key);
      const value = pass.fields[key];
      // A field without a value is left out: Apple requires `value` (§2.2).
      if (!def || value === undefined || value === null || value === "") continue;
      out.push(fieldContent(def, value, where, design.changeMessages?.[key]));
    }
    if (out.length) styleObject[FIELD_ARRAYS[where]] = out;
  }

  const json: PassJson = {
    formatVersion: 1,
    passTypeIdentifier: identity.passTypeIdentifier,
    serialNumber: pass.serialNumber,
    teamIdentifier: identity.teamIdentifier,
    organizationName: design.organizationName ?? identity.organizationName,
    description: design.description ?? template.name,
  };
  if (design.logoText) json.logoText = design.logoText;
  if (design.backgroundColor) json.backgroundColor = design.backgroundColor;
  if (design.foregroundColor) json.foregroundColor = design.foregroundColor;
  if (design.labelColor) json.labelColor = design.labelColor;
  if (design.groupingIdentifier && (style === "eventTicket" || style === "boardingPass")) json.groupingIdentifier = design.groupingIdentifier;
  json.webServiceURL = input.webServiceURL;
  json.authenticationToken = input.authenticationToken;
  json[style] = styleObject;

  const barcode = barcodeKey ? barcodeOf(design, barcodeKey, pass.fields, defs) : null;
  if (barcode) json.barcodes = [barcode];

  const expiration = expirationOf(design, pass, input.now);
  if (expiration) json.expirationDate = expiration;
  // §2.4: a voided pass is final; a redeemed coupon or ticket is "used up" the same way.
  if (pass.status === "voided" || pass.status === "redeemed") json.voided = true;
  if (design.sharingProhibited) json.sharingProhibited = true;
  if (design.nfc) {
    const nfc: Record<string, unknown> = { message: design.nfc.message, encryptionPublicKey: design.nfc.encryptionPublicKey };
    if (design.nfc.requiresAuthentication !== undefined) nfc.requiresAuthentication = design.nfc.requiresAuthentication;
    json.nfc = nfc;
  }
  return json;
}

function fieldContent(def: FieldDef, value: string | number, where: Placement, changeMessage: string | undefined): PassFieldContent {
  const out: PassFieldContent = { key: def.key, label: def.label, value: typeof value === "number" ? value : String(value) };
  if (def.type === "number" && typeof value === "string" && Number.isFinite(Number(value))) out.value = Number(value);
  if (def.type === "date" && typeof value === "string") {
    // §2.2: a date value is an ISO 8601 date with a zone; a bare day is shown as that day everywhere.
    if (DATE_ONLY.test(value)) {
      out.value = `${value}T00:00:00Z`;
      out.dateStyle = "PKDateStyleMedium";
      out.timeStyle = "PKDateStyleNone";
      out.ignoresTimeZone = true;
    } else {
      const ms = Date.parse(value);
      if (Number.isFinite(ms)) {
        out.value = w3cDate(ms);
        out.dateStyle = "PKDateStyleMedium";
        out.timeStyle = "PKDateStyleShort";
      }
    }
  }
  if (changeMessage) out.changeMessage = changeMessage;
  // Links and addresses are tappable only on the back (dataDetectorTypes is back-only, §2.2).
  if (where === "back" && (def.type === "url" || def.type === "email")) out.dataDetectorTypes = ["PKDataDetectorTypeLink"];
  return out;
}

function barcodeOf(design: AppleDesignCore, key: string, values: FieldValues, defs: Map<string, FieldDef>) {
  const raw = values[key];
  if (!defs.has(key) || raw === undefined || raw === null || String(raw) === "") return null;
  const barcode: Record<string, string> = {
    format: BARCODE_FORMATS[design.barcode?.format ?? "qr"],
    message: String(raw),
    messageEncoding: design.barcode?.messageEncoding ?? "iso-8859-1",
  };
  const alt = design.barcode?.altTextField ? values[design.barcode.altTextField] : undefined;
  if (alt !== undefined && alt !== null && String(alt) !== "") barcode.altText = String(alt);
  return barcode;
}

/**
 * §2.4: an expired pass carries an `expirationDate` in the past: the moment it was expired (its last
 * update), never later than `now`, minus a second, so it is stable across downloads. An active pass
 * carries the design's expiration field, when it has a value.
 */
function expirationOf(design: AppleDesignCore, pass: PassJsonInput["pass"], now: number): string | null {
  if (pass.status === "expired") return w3cDate(Math.min(pass.updatedAt, now) - 1000);
  if (!design.expirationField) return null;
  const v = pass.fields[design.expirationField];
  if (typeof v !== "string") return null;
  const ms = Date.parse(DATE_ONLY.test(v) ? `${v}T00:00:00Z` : v);
  return Number.isFinite(ms) ? w3cDate(ms) : null;
}

/**
 * Where fields go when the design does not say: the first required text field (else the first
 * text field, else the first shown field) is primary; the others fill secondary, then auxiliary,
 * within the style's limits (§2.2, where a square barcode takes room on some styles), and the rest go on the back.
 * The barcode's field is not repeated on the front.
 */
export function defaultPlacement(
  passType: TemplatePassType,
  fields: readonly FieldDef[],
  barcode: { field: string; format: BarcodeFormat } | undefined,
): Partial<Record<Placement, string[]>> {
  const barcodeKey = barcode?.field;
  const style = passStyleOf(passType);
  const limits = placementLimits(style);
  const shown = fields.filter((f) => f.key !== barcodeKey && f.type !== "barcode");
  const primary =
    shown.find((f) => f.type === "text" && f.required) ?? shown.find((f) => f.type === "text") ?? shown[0];
  const rest = shown.filter((f) => f !== primary);
  const shared = barcode !== undefined && SHARED_ROW_STYLES.includes(style) && SQUARE_BARCODES.includes(barcode.format);
  const frontRoom = shared ? 4 : limits.secondary + limits.auxiliary;
  const secondary = rest.slice(0, Math.min(limits.secondary, frontRoom));
  const auxiliary = rest.slice(secondary.length, Math.min(secondary.length + limits.auxiliary, frontRoom));
  const front = new Set([primary, ...secondary, ...auxiliary]);
  const back = fields.filter((f) => !front.has(f) && f.key !== barcodeKey);
  const keys = (list: (FieldDef | undefined)[]) => list.filter((f): f is FieldDef => f !== undefined).map((f) => f.key);
  return { primary: keys([primary]), secondary: keys(secondary), auxiliary: keys(auxiliary), back: keys(back) };
}
