/**
 * @module apple/device-log
 * Endpoint 5 (apple-wallet.md §1.5): devices report web service errors here, unauthenticated. The body
 * is capped (16 KiB), each client address may send 60 reports a minute (the APPLE_LOG_RATE_LIMIT binding;
 * beyond it lines are dropped, still answered 200 as Apple asks), and only sanitized lines reach our
 * log: at most 20, each at most 300 characters, control characters removed, ApplePass tokens and
 * device library ids (a device's secret for endpoint 3) redacted, written as JSON.
 */
export const DEVICE_LOG_LIMIT = 16 * 1024;
const MAX_LINES = 20;
const MAX_LINE = 300;

/** One log line made safe to keep. Pure. */
export function sanitizeLogLine(line: string): string {
  const clean = line
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, " ")
    .replace(/ApplePass\s+\S+/gi, "ApplePass [redacted]")
    .replace(/(\/devices\/)[^/\s'"]+/gi, "$1[redacted]");
  return clean.length > MAX_LINE ? `${clean.slice(0, MAX_LINE)}…` : clean;
}

/** The lines worth logging from a parsed body, or [] for anything that is not `{logs: [string]}`. */
export function deviceLogLines(body: unknown): string[] {
  if (!body || typeof body !== "object") return [];
  const logs = (body as { logs?: unknown }).logs;
  if (!Array.isArray(logs)) return [];
  return logs
    .filter((l): l is string => typeof l === "string")
    .slice(0, MAX_LINES)
    .map(sanitizeLogLine);
}

/** Logs a device's lines unless its address is over the rate limit. */
export async function logDeviceLines(env: Pick<Env, "APPLE_LOG_RATE_LIMIT">, client: string, body: unknown): Promise<boolean> {
  const lines = deviceLogLines(body);
  if (!lines.length) return false;
  const { success } = await env.APPLE_LOG_RATE_LIMIT.limit({ key: `apple-log:${client}` });
  if (!success) return false;
  console.log(JSON.stringify({ msg: "apple device log", lines }));
  return true;
}
