/**
 * @module dashboard/integrations/actions
 * The six webhook actions as the wizard explains them (WalletThat "Description of Each Action"), and
 * the form encoding of a field mapping: one row per template field (`src.<key>` the sender's key,
 * `remove.<key>` a checkbox), `pass-id` first and never removable. Only rows that differ from the
 * default (same key, kept) become mapping entries, so a mapping stays what the REST API would take.
 */
import type { FieldMapping } from "../../listener";
import { FIELD_ACTIONS, INTEGRATION_ACTIONS } from "../../listener";
import { PASS_ID_KEY } from "../../passes";

export type Action = (typeof INTEGRATION_ACTIONS)[number];

export const ACTION_INFO: Record<Action, { label: string; explain: string }> = {
  create: { label: "Create a pass record", explain: "Issues a new pass from the sent fields (e.g. a sign-up form creates a loyalty card)." },
  update: { label: "Update a pass record", explain: "Changes the sent fields of an existing pass (e.g. a purchase adds points)." },
  archive: { label: "Archive a pass record", explain: "Archives the pass; it takes no further changes. Reads pass-id only." },
  expire: { label: "Change the pass status to Expired", explain: "Greys out the barcode and moves the pass to expired passes. Reads pass-id only." },
  void: { label: "Change the pass status to Voided", explain: "Makes the pass invalid for good (e.g. a cancelled event). Reads pass-id only." },
  redeem: { label: "Change the pass status to Redeemed", explain: "Marks the pass as used (e.g. a one-time coupon). Reads pass-id only." },
};

export function isAction(v: string | null | undefined): v is Action {
  return (INTEGRATION_ACTIONS as readonly string[]).includes(v ?? "");
}

export const takesFields = (action: Action) => FIELD_ACTIONS.includes(action);

export interface FieldDefLite {
  key: string;
  label: string;
  type: string;
  required?: boolean;
}

export interface MappingRow {
  target: string;
  label: string;
  type: string;
  required: boolean;
  source: string;
  removed: boolean;
  /** pass-id: may be renamed, never removed. */
  locked: boolean;
}

/** The rows the wizard shows for an action: pass-id, then every template field when the action takes fields. */
export function mappingRows(fields: readonly FieldDefLite[], action: Action, mapping: FieldMapping): MappingRow[] {
  const has = (k: string) => Object.prototype.hasOwnProperty.call(mapping, k);
  const rows: MappingRow[] = [
    { target: PASS_ID_KEY, label: "Pass ID", type: "id", required: true, source: (has(PASS_ID_KEY) && mapping[PASS_ID_KEY]) || PASS_ID_KEY, removed: false, locked: true },
  ];
  if (!takesFields(action)) return rows;
  for (const f of fields) {
    const m = has(f.key) ? mapping[f.key] : undefined;
    rows.push({ target: f.key, label: f.label, type: f.type, required: !!f.required, source: m ?? f.key, removed: m === null, locked: false });
  }
  return rows;
}

/** The mapping a submitted wizard form describes (only the keys of this template and action are read). */
export function mappingFromForm(form: URLSearchParams, fields: readonly FieldDefLite[], action: Action): FieldMapping {
  const mapping: FieldMapping = {};
  const targets = [PASS_ID_KEY, ...(takesFields(action) ? fields.map((f) => f.key) : [])];
  for (const target of targets) {
    const removed = target !== PASS_ID_KEY && form.get(`remove.${target}`) === "on";
    const source = (form.get(`src.${target}`) ?? "").trim();
    if (removed) mapping[target] = null;
    else if (source !== "" && source !== target) mapping[target] = source;
  }
  return mapping;
}

const UNSAFE_SEGMENTS = new Set(["__proto__", "constructor", "prototype"]);

/** Source paths naming an object's own machinery are refused before any verb sees them. */
export function unsafeSources(mapping: FieldMapping): { path: string; message: string }[] {
  return Object.entries(mapping)
    .filter(([, src]) => typeof src === "string" && src.split(".").some((seg) => UNSAFE_SEGMENTS.has(seg)))
    .map(([target]) => ({ path: `fieldMapping.${target}`, message: "must not use __proto__, constructor or prototype as a key" }));
}

/** Sets `value` at a dotted path (how the listener reads nested JSON). */
export function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split(".");
  if (parts.some((p) => UNSAFE_SEGMENTS.has(p))) return;
  let cur = obj;
  for (const part of parts.slice(0, -1)) {
    if (typeof cur[part] !== "object" || cur[part] === null) cur[part] = {};
    cur = cur[part] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1]] = value;
}

/** A POSIX-shell single-quoted string. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
