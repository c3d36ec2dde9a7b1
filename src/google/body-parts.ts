/**
 * @module google/body-parts
 * Small builders for the Wallet Objects types that every class and object body shares
 * (LocalizedString, Image, Uri, TextModuleData, TimeInterval, Barcode), spelled as the walletobjects
 * v1 discovery document spells them. Pure.
 */
import type { FieldDef, FieldValues } from "../db/schema";
import type { GoogleDesign } from "./design";

export type Body = Record<string, unknown>;

export interface BuildContext {
  issuerId: string;
  projectId: string;
  /** Issuer name when the design names none (e.g. the project's name). */
  issuerName: string;
  /** Used where Google requires a logo and the design has none (loyalty and gift-card program logos). */
  defaultLogoUri: string;
  /** `{PUBLIC_URL}/google/callback`: sets `callbackOptions.url` on every class (§5). */
  callbackUrl?: string;
}

/** The template fields the builders read. */
export interface TemplateLike {
  id: number;
  name: string;
  passType: string;
  fields: FieldDef[];
}

export function localized(value: string, design: Pick<GoogleDesign, "language">) {
  return { defaultValue: { language: design.language, value } };
}

export function image(uri: string, description?: string, design?: Pick<GoogleDesign, "language">) {
  return description && design ? { sourceUri: { uri }, contentDescription: localized(description, design) } : { sourceUri: { uri } };
}

/** A field's value as display text, or null when the pass has none. */
export function fieldText(fields: FieldValues, key: string | undefined): string | null {
  if (key === undefined || !Object.prototype.hasOwnProperty.call(fields, key)) return null;
  const v = fields[key];
  if (v === null || v === undefined) return null;
  const s = typeof v === "number" ? String(v) : v;
  return s.trim() === "" ? null : s;
}

/** Text modules (TextModuleData: header, body, id) from fields, in design order, at most 10. */
export function textModules(template: TemplateLike, fields: FieldValues, keys: readonly string[]) {
  const labels = new Map(template.fields.map((f) => [f.key, f.label]));
  const out: { id: string; header: string; body: string }[] = [];
  for (const key of keys) {
    const body = fieldText(fields, key);
    // Field keys match ^[a-z][a-z0-9_-]*$, which is within the id alphabet (no dots).
    if (body !== null) out.push({ id: key, header: labels.get(key) ?? key, body });
    if (out.length === 10) break;
  }
  return out;
}

/**
 * A DateTime for a TimeInterval side. Dates are stored as `YYYY-MM-DD` or ISO UTC; a bare date
 * becomes the start or the end of that day in UTC so both sides carry an offset (Google: if one
 * side has an offset the other must too).
 */
export function dateTime(value: string, side: "start" | "end"): { date: string } | null {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return { date: side === "start" ? `${value}T00:00:00Z` : `${value}T23:59:59Z` };
  return Number.isNaN(Date.parse(value)) ? null : { date: new Date(Date.parse(value)).toISOString() };
}

/** Drops undefined values so a body never carries `"key": undefined` into JSON comparisons. */
export function defined<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
