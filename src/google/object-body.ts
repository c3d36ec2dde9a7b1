/**
 * @module google/object-body
 * The object body of a pass, per vertical (walletobjects v1: `id`, `classId` and `state` on every
 * object; `cardTitle` and `header` on generic; `cardNumber` on gift cards). Template fields fill
 * the slots the design names; every other field with a value becomes a text module, so a pass
 * shows its data even with an empty design. Pure.
 */
import type { FieldValues, PassRecord } from "../db/schema";
import { type Body, type BuildContext, type TemplateLike, dateTime, defined, fieldText, image, localized, textModules } from "./body-parts";
import type { GoogleDesign } from "./design";
import { googleClassId, googleObjectId } from "./ids";
import { googleState, resourceFor } from "./resources";

export type PassLike = Pick<PassRecord, "id" | "status" | "archivedAt" | "fields" | "externalId">;

const INT32_MAX = 2 ** 31 - 1;

/** Fields the design places in a dedicated slot (not repeated as text modules). */
function placedFields(design: GoogleDesign): Set<string> {
  const keys = [
    design.barcode?.field,
    design.barcode?.alternateTextField,
    design.headerField,
    design.loyalty?.accountNameField,
    design.loyalty?.accountIdField,
    design.loyalty?.pointsField,
    design.loyalty?.rewardsTierField,
    design.giftCard?.cardNumberField,
    design.giftCard?.pinField,
    design.giftCard?.balanceField,
    design.eventTicket?.ticketHolderNameField,
    design.eventTicket?.ticketNumberField,
    design.eventTicket?.seatField,
    design.eventTicket?.rowField,
    design.eventTicket?.sectionField,
    design.eventTicket?.gateField,
  ];
  return new Set(keys.filter((k): k is string => k !== undefined));
}

/** Which fields become text modules: the design's list, or every unplaced non-barcode field. */
export function textModuleKeys(template: TemplateLike, design: GoogleDesign): string[] {
  if (design.textModules) return design.textModules;
  const placed = placedFields(design);
  return template.fields.filter((f) => f.type !== "barcode" && !placed.has(f.key)).map((f) => f.key);
}

function barcodeOf(template: TemplateLike, fields: FieldValues, design: GoogleDesign): Body | null {
  const key = design.barcode?.field ?? template.fields.find((f) => f.type === "barcode" && fieldText(fields, f.key) !== null)?.key;
  const value = fieldText(fields, key);
  if (value === null) return null;
  const alt = fieldText(fields, design.barcode?.alternateTextField);
  return { type: design.barcode?.type ?? "QR_CODE", value, ...(alt !== null ? { alternateText: alt } : {}) };
}

function validity(fields: FieldValues, design: GoogleDesign): Body | null {
  const from = fieldText(fields, design.validFromField);
  const until = fieldText(fields, design.validUntilField);
  const start = from === null ? null : dateTime(from, "start");
  const end = until === null ? null : dateTime(until, "end");
  if (!start && !end) return null;
  return { ...(start ? { start } : {}), ...(end ? { end } : {}) };
}

/** LoyaltyPointsBalance: exactly one of int (int32), double or string. */
function balance(fields: FieldValues, key: string): Body | null {
  if (!Object.prototype.hasOwnProperty.call(fields, key)) return null;
  const v = fields[key];
  if (typeof v === "number") return Number.isInteger(v) && Math.abs(v) <= INT32_MAX ? { int: v } : { double: v };
  return typeof v === "string" && v.trim() !== "" ? { string: v } : null;
}

/** Money in micros (int64 as a string), or null when the amount does not fit exactly. */
function money(value: number, currencyCode: string): Body | null {
  const micros = Math.round(value * 1_000_000);
  return Number.isSafeInteger(micros) ? { micros: String(micros), currencyCode } : null;
}

export function objectBody(template: TemplateLike, pass: PassLike, design: GoogleDesign, ctx: BuildContext): Body {
  const resource = resourceFor(template.passType, design);
  const f = pass.fields;
  const label = (key: string | undefined) => template.fields.find((d) => d.key === key)?.label;
  const body: Body = {
    id: googleObjectId(ctx.issuerId, ctx.projectId, pass.id),
    classId: googleClassId(ctx.issuerId, ctx.projectId, template.id),
    state: googleState(pass),
  };
  const code = barcodeOf(template, f, design);
  if (code) body.barcode = code;
  const modules = textModules(template, f, textModuleKeys(template, design));
  if (modules.length) body.textModulesData = modules;
  const interval = validity(f, design);
  if (interval) body.validTimeInterval = interval;

  switch (resource) {
    case "loyalty": {
      const l = design.loyalty ?? {};
      const points = l.pointsField ? balance(f, l.pointsField) : null;
      Object.assign(body, defined({ accountName: fieldText(f, l.accountNameField) ?? undefined, accountId: fieldText(f, l.accountIdField) ?? undefined }));
      if (points) body.loyaltyPoints = { label: l.pointsLabel ?? label(l.pointsField) ?? "Points", balance: points };
      const tier = fieldText(f, l.rewardsTierField);
      // The tier leads the text modules (LoyaltyObject has no per-object tier slot; the class's is shared).
      if (tier !== null) {
        const rest = modules.filter((m) => m.id !== l.rewardsTierField);
        body.textModulesData = [{ id: l.rewardsTierField!, header: label(l.rewardsTierField) ?? "Tier", body: tier }, ...rest].slice(0, 10);
      }
      return body;
    }
    case "giftCard": {
      const g = design.giftCard!;
      // cardNumber is required by Google: fall back to the pass's external id.
      body.cardNumber = fieldText(f, g.cardNumberField) ?? pass.externalId;
      const pin = fieldText(f, g.pinField);
      if (pin !== null) body.pin = pin;
      const amount = g.balanceField ? f[g.balanceField] : undefined;
      const m = typeof amount === "number" && g.currencyCode ? money(amount, g.currencyCode) : null;
      if (m) body.balance = m;
      return body;
    }
    case "eventTicket": {
      const e = design.eventTicket ?? {};
      Object.assign(body, defined({ ticketHolderName: fieldText(f, e.ticketHolderNameField) ?? undefined, ticketNumber: fieldText(f, e.ticketNumberField) ?? undefined }));
      const seat: Body = {};
      for (const [slot, key] of [["seat", e.seatField], ["row", e.rowField], ["section", e.sectionField], ["gate", e.gateField]] as const) {
        const v = fieldText(f, key);
        if (v !== null) seat[slot] = localized(v, design);
      }
      if (Object.keys(seat).length) body.seatInfo = seat;
      if (design.hexBackgroundColor) body.hexBackgroundColor = design.hexBackgroundColor;
      return body;
    }
    case "offer":
      return body;
    case "generic": {
      const issuerName = design.issuerName ?? ctx.issuerName;
      body.cardTitle = localized(design.cardTitle ?? issuerName, design);
      body.header = localized(fieldText(f, design.headerField) ?? design.title ?? template.name, design);
      if (design.subheader) body.subheader = localized(design.subheader, design);
      if (design.logoUri) body.logo = image(design.logoUri, issuerName, design);
      if (design.heroImageUri) body.heroImage = image(design.heroImageUri);
      if (design.hexBackgroundColor) body.hexBackgroundColor = design.hexBackgroundColor;
      return body;
    }
  }
}

/**
 * Every top-level key objectBody may write for a resource. A full-state PATCH sends each of them,
 * as a value or as null, so a value cleared in passhook is cleared at Google too.
 */
export const OBJECT_KEYS: Record<ReturnType<typeof resourceFor>, readonly string[]> = {
  loyalty: ["classId", "state", "barcode", "textModulesData", "validTimeInterval", "accountName", "accountId", "loyaltyPoints"],
  giftCard: ["classId", "state", "barcode", "textModulesData", "validTimeInterval", "cardNumber", "pin", "balance"],
  eventTicket: ["classId", "state", "barcode", "textModulesData", "validTimeInterval", "ticketHolderName", "ticketNumber", "seatInfo", "hexBackgroundColor"],
  offer: ["classId", "state", "barcode", "textModulesData", "validTimeInterval"],
  generic: ["classId", "state", "barcode", "textModulesData", "validTimeInterval", "cardTitle", "header", "subheader", "logo", "heroImage", "hexBackgroundColor"],
};
