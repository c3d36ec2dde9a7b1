/**
 * @module lib/safe-keys
 * Keys that must never be used as property names on objects we build from input. An isolate's
 * `Object.prototype` is shared by every tenant it serves, so a write through `__proto__` (or a read that
 * falls through to an inherited member such as `constructor`) lets one project's data change how another
 * project's request is handled. Inputs are checked against these sets at the edge, and objects built from
 * input are made with `Object.create(null)` and read with `Object.hasOwn`.
 */

/** Path segments that reach a prototype instead of a property. */
export const FORBIDDEN_SEGMENTS: ReadonlySet<string> = new Set(["__proto__", "prototype", "constructor"]);

/** Every name `Object.prototype` answers to (`toString`, `hasOwnProperty`, `__proto__`, ...), plus `prototype`. */
export const SHADOWING_KEYS: ReadonlySet<string> = new Set([...Object.getOwnPropertyNames(Object.prototype), "prototype"]);

/** Whether a dotted path has a segment that reaches a prototype. */
export function hasForbiddenSegment(path: string): boolean {
  return path.split(".").some((s) => FORBIDDEN_SEGMENTS.has(s));
}

/** A plain record with no prototype: nothing is inherited, and `__proto__` is an ordinary key. */
export function bareRecord<V>(): Record<string, V> {
  return Object.create(null) as Record<string, V>;
}
