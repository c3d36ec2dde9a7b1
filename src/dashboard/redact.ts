/**
 * @module dashboard/redact
 * What the event log shows of a logged body (pure): JSON and form bodies with the values of
 * credential-like keys replaced by `[redacted]`, cut to a few KiB. Headers were already redacted when
 * the event was logged; the raw body stays intact in storage, since replay needs it.
 */
const SENSITIVE = /(password|passwd|secret|token|authorization|api[-_]?key|cvv|cvc|card[-_]?number|ssn|iban)/i;
export const SHOWN_BODY_LIMIT = 4096;

function redactValue(v: unknown, depth: number): unknown {
  if (depth > 20 || v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) return v.map((x) => redactValue(x, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) Object.defineProperty(out, k, { value: SENSITIVE.test(k) ? "[redacted]" : redactValue(x, depth + 1), enumerable: true });
  return out;
}

export function redactBody(body: string, contentType: string | null): string {
  const mime = (contentType ?? "").split(";")[0].trim().toLowerCase();
  let shown = body;
  if (mime === "application/x-www-form-urlencoded") {
    const p = new URLSearchParams(body);
    for (const k of new Set(p.keys())) if (SENSITIVE.test(k)) p.set(k, "[redacted]");
    shown = p.toString();
  } else {
    try {
      shown = JSON.stringify(redactValue(JSON.parse(body), 0), null, 2);
    } catch {
      shown = body;
    }
  }
  return shown.length > SHOWN_BODY_LIMIT ? `${shown.slice(0, SHOWN_BODY_LIMIT)}\n… (${shown.length - SHOWN_BODY_LIMIT} more characters)` : shown;
}
