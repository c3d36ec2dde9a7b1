/**
 * @module listener/mapping
 * How a sender's JSON becomes a pass write (pure). By default each template field is read from the
 * key of the same name and the pass id from `pass-id`. An integration's `fieldMapping` renames
 * (`"points": "customer.loyalty.points"`, a dotted path into nested JSON) or removes (`null`) a field;
 * `pass-id` can be renamed, never removed (WalletThat: "every action requires the inclusion of the
 * pass-id field ... and cannot be removed"). Status and archive actions read `pass-id` only.
 * Keys the mapping does not read are reported as `ignoredFields` (the first 20), so a sender with extra
 * data works.
 *
 * Every input here is hostile: a path segment `__proto__`, `prototype` or `constructor` is refused when a
 * mapping is saved and never followed when a payload is read, objects built from input have no
 * prototype, and mapping lookups use `Object.hasOwn` (one tenant's mapping must not reach the isolate's
 * shared `Object.prototype`, which every other tenant's request reads through).
 */
import type { FieldDef, FieldType, IntegrationAction } from "../db/schema";
import type { FieldIssue } from "../lib/errors";
import { err, ok, type Result } from "../lib/result";
import { bareRecord, FORBIDDEN_SEGMENTS, hasForbiddenSegment } from "../lib/safe-keys";
import { isBlank, PASS_ID_KEY as PASS_ID } from "../passes";


export const MAX_IGNORED_LISTED = 20;
export const FIELD_ACTIONS: readonly IntegrationAction[] = ["create", "update"];

export type FieldMapping = Record<string, string | null>;

export interface MappingSpec {
  action: IntegrationAction;
  fields: readonly FieldDef[];
  mapping: FieldMapping;
}

const SOURCE_PATH = /^[^.\s][^\s]{0,199}$/;

/** Checks a mapping against its template and action; the issues name `fieldMapping.<key>`. */
export function checkMapping(spec: MappingSpec): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const keys = new Set(spec.fields.map((f) => f.key));
  const takesFields = FIELD_ACTIONS.includes(spec.action);
  for (const [target, source] of Object.entries(spec.mapping)) {
    const path = `fieldMapping.${target}`;
    if (source !== null && source.split(".").some((part) => part === "")) {
      issues.push({ path, message: "must be a source key or dotted path without empty segments (no leading, trailing or doubled dots)" });
      continue;
    }
    if (source !== null && hasForbiddenSegment(source)) {
      issues.push({ path, message: `must not use ${[...FORBIDDEN_SEGMENTS].join(", ")} as a key or path segment` });
      continue;
    }
    if (target === PASS_ID) {
      if (source === null) issues.push({ path, message: "pass-id is mandatory for every action and cannot be removed" });
    } else if (!takesFields) {
      issues.push({ path, message: `the ${spec.action} action reads pass-id only; fields cannot be mapped` });
      continue;
    } else if (!keys.has(target)) {
      issues.push({ path, message: "is not a field of this template" });
      continue;
    }
    if (source !== null && !SOURCE_PATH.test(source)) issues.push({ path, message: "must be a source key or dotted path (no spaces, at most 200 characters)" });
  }
  return issues;
}

/** Every (target -> source) pair the integration reads, pass-id first. */
export function resolveSources(spec: MappingSpec): { target: string; source: string }[] {
  const own = (key: string) => (Object.hasOwn(spec.mapping, key) ? spec.mapping[key] : undefined);
  const out = [{ target: PASS_ID, source: own(PASS_ID) ?? PASS_ID }];
  if (!FIELD_ACTIONS.includes(spec.action)) return out;
  for (const f of spec.fields) {
    const source = own(f.key);
    if (source !== null) out.push({ target: f.key, source: source ?? f.key });
  }
  return out;
}

/**
 * Reads a dotted path; a literal key containing dots (form posts) wins over nesting. Own properties
 * only, and never through a prototype segment (a mapping stored before that was refused stays inert).
 */
export function readPath(payload: Record<string, unknown>, path: string): { found: boolean; value: unknown; top: string } {
  const parts = path.split(".");
  if (hasForbiddenSegment(path)) return { found: false, value: undefined, top: parts[0] };
  if (Object.hasOwn(payload, path)) return { found: true, value: payload[path], top: path };
  let cur: unknown = payload;
  for (const part of parts) {
    if (cur === null || typeof cur !== "object" || !Object.hasOwn(cur, part)) {
      return { found: false, value: undefined, top: parts[0] };
    }
    cur = (cur as Record<string, unknown>)[part];
  }
  return { found: true, value: cur, top: parts[0] };
}

export interface Mapped {
  externalId: string;
  /** Raw values keyed by template field, only those the sender sent; typed later by the template. */
  values: Record<string, unknown>;
  /** Template field -> the sender's key, to name fields in errors the way the sender knows them. */
  sourceOf: Record<string, string>;
  ignoredFields: string[];
}

export function applyMapping(spec: MappingSpec, payload: Record<string, unknown>): Result<Mapped, FieldIssue[]> {
  const used = new Set<string>();
  const values = bareRecord<unknown>();
  const sourceOf = bareRecord<string>();
  let externalId: string | null = null;
  const issues: FieldIssue[] = [];

  for (const { target, source } of resolveSources(spec)) {
    sourceOf[target] = source;
    const r = readPath(payload, source);
    if (!r.found) {
      if (target === PASS_ID) issues.push({ path: source, message: `is required: it carries the pass-id` });
      continue;
    }
    used.add(r.top);
    if (target === PASS_ID) {
      const id = passIdOf(r.value);
      if (id.ok) externalId = id.value;
      else issues.push({ path: source, message: id.error });
    } else {
      values[target] = r.value;
    }
  }
  if (issues.length || externalId === null) return err(issues);
  // Named back to the sender (and kept with the answer): at most 20 keys of at most 100 characters,
  // so a body of thousands of stray keys cannot make a 250 KB answer that is stored three times.
  const ignoredFields = Object.keys(payload)
    .filter((k) => !used.has(k))
    .slice(0, MAX_IGNORED_LISTED)
    .map((k) => k.slice(0, 100));
  return ok({ externalId, values, sourceOf, ignoredFields });
}

/**
 * The pass-id as text. Numbers are accepted only as whole numbers up to 2^53: past that, JSON numbers
 * lose digits (12345678901234567890 and …891 parse to the same double) and two ids would name one pass.
 */
function passIdOf(v: unknown): Result<string, string> {
  if (typeof v === "number") {
    if (!Number.isSafeInteger(v)) {
      return err("pass-id is a number that cannot be kept exactly (not a whole number up to 2^53); send the id as a JSON string");
    }
    return ok(String(v));
  }
  const s = typeof v === "string" ? v.trim() : "";
  if (!s || isBlank(s) || s.length > 200) return err("pass-id must be a non-empty string (or a whole number) of at most 200 characters");
  return ok(s);
}

const EXAMPLES: Record<FieldType, string | number> = {
  text: "text",
  number: 0,
  date: "2027-01-31",
  url: "https://example.com",
  email: "holder@example.com",
  barcode: "123456789",
};

/** An example body the sender should post (WalletThat's "review the data fields expected" step). */
export function expectedPayload(spec: MappingSpec): Record<string, unknown> {
  const out = bareRecord<unknown>();
  const byKey = new Map(spec.fields.map((f) => [f.key, f]));
  for (const { target, source } of resolveSources(spec)) {
    const def = byKey.get(target);
    const example = target === PASS_ID ? "pass-123" : (def?.default ?? EXAMPLES[def!.type]);
    setPath(out, source, example);
  }
  return out;
}

/** Writes into prototype-free objects only, and skips a path with a prototype segment altogether. */
function setPath(obj: Record<string, unknown>, path: string, value: unknown) {
  if (hasForbiddenSegment(path)) return;
  const parts = path.split(".");
  let cur = obj;
  for (const part of parts.slice(0, -1)) {
    const next = Object.hasOwn(cur, part) ? cur[part] : undefined;
    if (typeof next !== "object" || next === null) cur[part] = bareRecord<unknown>();
    cur = cur[part] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1]] = value;
}
