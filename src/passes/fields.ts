/**
 * @module passes/fields
 * Template field checks and coercion (pure). Every write, from the admin API or a listener, goes
 * through `coerceFields`, so a pass's stored values always have their template's types:
 * numbers are numbers, dates are ISO 8601, urls and emails are checked, barcodes are non-empty text.
 */
import type { FieldDef, FieldType } from "../db/schema";
import type { FieldIssue } from "../lib/errors";

export type FieldValue = string | number;
export type FieldPatch = Record<string, FieldValue | null>;

export interface CoerceOptions {
  /** create: defaults apply and required fields must be present; update: a patch, null clears. */
  mode: "create" | "update";
  /** Admin API rejects unknown keys; listeners never pass any (mapping drops them first). */
  unknown: "reject";
  /** How to name a field in an issue path (listeners name the source key too). */
  pathOf?: (key: string) => string;
}

const MAX_TEXT = 4096;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/;
const NUMERIC = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

type One = { ok: true; value: FieldValue | null } | { ok: false; message: string };

/** Coerces one raw value to a field type. `null` means "no value". */
export function coerceValue(type: FieldType, raw: unknown): One {
  if (raw === null || raw === undefined) return { ok: true, value: null };
  // Senders such as form tools post "" for an empty field: blank text (whitespace or invisible
  // characters only) is "no value" for every type, so a required field cannot be satisfied by it.
  if (typeof raw === "string" && isBlank(raw)) return { ok: true, value: null };
  // A whole number past 2^53 has already lost digits: as text or a barcode it would keep the wrong ones.
  if (type !== "number" && typeof raw === "number" && Number.isInteger(raw) && !Number.isSafeInteger(raw)) {
    return { ok: false, message: "is a number too large to keep exactly (past 2^53); send it as a JSON string" };
  }
  switch (type) {
    case "text": {
      if (typeof raw === "number" || typeof raw === "boolean") return { ok: true, value: String(raw) };
      if (typeof raw !== "string") return { ok: false, message: "must be text" };
      if (raw.length > MAX_TEXT) return { ok: false, message: `must be at most ${MAX_TEXT} characters` };
      return { ok: true, value: raw };
    }
    case "number": {
      if (typeof raw === "number") return exactNumber(raw);
      if (typeof raw === "string" && NUMERIC.test(raw.trim())) return exactNumber(Number(raw.trim()));
      return { ok: false, message: "must be a number" };
    }
    case "date":
      return coerceDate(raw);
    case "url": {
      if (typeof raw !== "string") return { ok: false, message: "must be a URL" };
      let u: URL;
      try {
        u = new URL(raw.trim());
      } catch {
        return { ok: false, message: "must be an absolute http(s) URL" };
      }
      if (u.protocol !== "https:" && u.protocol !== "http:") return { ok: false, message: "must be an absolute http(s) URL" };
      return { ok: true, value: u.toString() };
    }
    case "email": {
      if (typeof raw !== "string" || raw.length > 254 || !EMAIL.test(raw.trim())) return { ok: false, message: "must be an email address" };
      return { ok: true, value: raw.trim() };
    }
    case "barcode": {
      const s = typeof raw === "number" ? String(raw) : raw;
      if (typeof s !== "string" || s.trim() === "") return { ok: false, message: "must be a non-empty barcode message" };
      if (s.length > 512) return { ok: false, message: "must be at most 512 characters" };
      return { ok: true, value: s };
    }
  }
}

/** Whitespace and the invisible characters that render as nothing (zero-width space, joiners, BOM). */
const BLANK = /^[\s\u200B-\u200D\u2060\uFEFF]*$/;

export function isBlank(s: string): boolean {
  return BLANK.test(s);
}

/** A whole number past 2^53 has already lost digits (…890 and …891 are one double): refuse it rather than store another number. */
function exactNumber(n: number): One {
  if (!Number.isFinite(n)) return { ok: false, message: "must be a finite number" };
  if (Number.isInteger(n) && !Number.isSafeInteger(n)) return { ok: false, message: "is too large to keep exactly (past 2^53); use a text field for long identifiers" };
  return { ok: true, value: n };
}

function coerceDate(raw: unknown): One {
  const bad: One = { ok: false, message: "must be a date (YYYY-MM-DD) or an ISO 8601 date-time with a time zone" };
  if (typeof raw === "number") {
    const t = new Date(raw);
    return Number.isFinite(t.getTime()) ? { ok: true, value: t.toISOString() } : bad;
  }
  if (typeof raw !== "string") return bad;
  const s = raw.trim();
  if (DATE_ONLY.test(s)) return realDay(s) ? { ok: true, value: s } : bad;
  const dt = DATE_TIME.exec(s);
  // Date.parse would roll 2024-02-30 over into March: check the calendar and the clock first.
  if (dt && realDay(s.slice(0, 10)) && Number(dt[1]) < 24 && Number(dt[2]) < 60 && Number(dt[3] ?? 0) < 60) {
    const ms = Date.parse(s);
    return Number.isNaN(ms) ? bad : { ok: true, value: new Date(ms).toISOString() };
  }
  return bad;
}

/** Whether YYYY-MM-DD names a day that exists. */
function realDay(s: string): boolean {
  const d = DATE_ONLY.exec(s);
  if (!d) return false;
  const [y, m, day] = [Number(d[1]), Number(d[2]), Number(d[3])];
  const t = new Date(Date.UTC(y, m - 1, day));
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === day;
}

export type CoerceResult = { ok: true; values: FieldPatch } | { ok: false; issues: FieldIssue[] };

/**
 * Checks `input` against the template's field definitions. In create mode the result holds every
 * field that has a value (defaults applied); in update mode it is a patch (null = clear).
 */
export function coerceFields(defs: readonly FieldDef[], input: Record<string, unknown>, opts: CoerceOptions): CoerceResult {
  const pathOf = opts.pathOf ?? ((k: string) => `fields.${k}`);
  const byKey = new Map(defs.map((d) => [d.key, d]));
  const issues: FieldIssue[] = [];
  // Built as entries and turned into an object at the end: Object.fromEntries defines own properties, so
  // no key can reach a prototype, and the result is a plain object (it crosses Durable Object RPC,
  // which cannot clone prototype-less objects).
  const values = new Map<string, FieldValue | null>();

  for (const key of Object.keys(input)) {
    if (!byKey.has(key)) issues.push({ path: pathOf(key), message: "is not a field of this template" });
  }
  for (const def of defs) {
    const present = Object.hasOwn(input, def.key);
    if (opts.mode === "update" && !present) continue;
    const r = coerceValue(def.type, present ? input[def.key] : undefined);
    if (!r.ok) {
      issues.push({ path: pathOf(def.key), message: `${def.label || def.key} ${r.message}` });
      continue;
    }
    let value = r.value;
    if (value === null && opts.mode === "create" && def.default != null) value = def.default;
    if (value === null && def.required) {
      issues.push({ path: pathOf(def.key), message: opts.mode === "create" ? "is required" : "is required and cannot be cleared" });
      continue;
    }
    if (value !== null || opts.mode === "update") values.set(def.key, value);
  }
  return issues.length ? { ok: false, issues } : { ok: true, values: Object.fromEntries(values) };
}

/** Applies a patch to stored values: null removes the key. Returns the changed keys. Own keys only. */
export function mergeFields(current: Record<string, FieldValue>, patch: FieldPatch) {
  const next = new Map<string, FieldValue>(Object.entries(current));
  const changed = new Map<string, { from: FieldValue | null; to: FieldValue | null }>();
  for (const [k, v] of Object.entries(patch)) {
    const before = next.get(k) ?? null;
    if (v === null) next.delete(k);
    else next.set(k, v);
    if (before !== v) changed.set(k, { from: before, to: v });
  }
  return { next: Object.fromEntries(next), changed: Object.fromEntries(changed) };
}
