/**
 * @module callbacks/header-policy
 * Validates the static headers a customer asks us to send with every callback (Airship's `headers`
 * object on a callback spec). Names must be RFC 9110 §5.6.2 tokens and values free of control
 * characters (§5.5), so nothing can split or smuggle a request; hop-by-hop headers (§7.6.1), headers
 * the platform or proxies own, and our own `webhook-*` signature headers (Standard Webhooks) are
 * refused so a customer cannot forge or break them. Pure.
 */
import { utf8 } from "../lib/crypto";
import type { FieldIssue } from "../lib/errors";
import { err, ok, type Result } from "../lib/result";

export const MAX_HEADERS = 20;
export const MAX_HEADER_NAME_LENGTH = 256;
export const MAX_HEADER_VALUE_LENGTH = 4096;
/** Names plus values, in UTF-8 bytes. */
export const MAX_HEADERS_TOTAL_BYTES = 16_384;

/** RFC 9110 §5.6.2 `token`. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Control characters other than HTAB, which RFC 9110 §5.5 excludes from field values (CR, LF and NUL among them). */
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

/** Hop-by-hop (RFC 9110 §7.6.1) and headers the HTTP stack sets itself, lower-case. */
const FORBIDDEN_NAMES = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "trailers",
  "transfer-encoding",
  "upgrade",
  "host",
  "content-length",
  "expect",
  "forwarded",
  "x-real-ip",
]);
/** `webhook-*` are our Standard Webhooks headers; `cf-*` belong to Cloudflare; `x-forwarded-*` to proxies. */
const FORBIDDEN_PREFIXES = ["webhook-", "cf-", "x-forwarded-"];

/** The only Content-Type a customer may name (Airship examples send it); we set it ourselves, so it is dropped. */
const JSON_CONTENT_TYPE = /^application\/json[ \t]*(;[ \t]*charset[ \t]*=[ \t]*(utf-8|"utf-8"))?[ \t]*$/i;

/**
 * Checks a customer's `headers` object. Returns the headers to send, with the customer's name casing,
 * or one issue per problem with a `headers.<Name>` path (`headers` for the object as a whole).
 * `undefined` and `null` mean "no headers".
 */
export function checkCallbackHeaders(input: unknown): Result<Record<string, string>, FieldIssue[]> {
  if (input === undefined || input === null) return ok({});
  if (!isPlainObject(input)) return err([{ path: "headers", message: "Headers must be an object of header names to string values." }]);

  const entries = Object.entries(input);
  const issues: FieldIssue[] = [];
  const kept: Array<[string, string]> = [];
  const seen = new Set<string>();
  let totalBytes = 0;

  if (entries.length > MAX_HEADERS) {
    issues.push({ path: "headers", message: `At most ${MAX_HEADERS} headers are allowed; got ${entries.length}.` });
  }

  for (const [name, value] of entries) {
    const path = `headers.${name}`;
    const lower = name.toLowerCase();

    if (!TOKEN.test(name)) {
      issues.push({ path, message: "Header names must be HTTP tokens (letters, digits and !#$%&'*+-.^_`|~)." });
      continue;
    }
    if (name.length > MAX_HEADER_NAME_LENGTH) {
      issues.push({ path, message: `Header names must be at most ${MAX_HEADER_NAME_LENGTH} characters.` });
      continue;
    }
    if (seen.has(lower)) {
      issues.push({ path, message: "This header is given more than once (header names are case-insensitive)." });
      continue;
    }
    seen.add(lower);

    if (typeof value !== "string") {
      issues.push({ path, message: "Header values must be strings." });
      continue;
    }
    totalBytes += utf8(name).length + utf8(value).length;

    if (value.length > MAX_HEADER_VALUE_LENGTH) {
      issues.push({ path, message: `Header values must be at most ${MAX_HEADER_VALUE_LENGTH} characters.` });
      continue;
    }
    if (CONTROL.test(value)) {
      issues.push({ path, message: "Header values must not contain line breaks, NUL or other control characters." });
      continue;
    }
    if (FORBIDDEN_NAMES.has(lower) || FORBIDDEN_PREFIXES.some((p) => lower.startsWith(p))) {
      issues.push({ path, message: "This header is reserved and cannot be set." });
      continue;
    }
    if (lower === "content-type") {
      if (!JSON_CONTENT_TYPE.test(value)) {
        issues.push({ path, message: "Callbacks are always sent as application/json; Content-Type cannot be changed." });
      }
      continue; // dropped: we set Content-Type ourselves
    }
    kept.push([name, value]);
  }

  if (totalBytes > MAX_HEADERS_TOTAL_BYTES) {
    issues.push({ path: "headers", message: `Header names and values together must be at most ${MAX_HEADERS_TOTAL_BYTES} bytes.` });
  }
  if (issues.length > 0) return err(issues);
  // fromEntries defines own properties, so a header named `__proto__` stays a header.
  return ok(Object.fromEntries(kept));
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}
