/**
 * @module apple/canary
 * Does a push path reach APNs? One push to a dummy device token: any answer in APNs's own shape
 * (400 BadDeviceToken with a good key, 403 InvalidProviderToken with a throwaway one, ...) proves the
 * path; a timeout or a connection or protocol error disproves it (apple-wallet.md §5.5 option (a)).
 *
 * Self-contained on purpose (no imports): `scripts/apns-canary.mjs` loads this file directly with
 * Node's type stripping, and a Worker route can run `runApnsCanary` with `fetchTransport()` to test
 * the deployed Worker's own `fetch`.
 */

export type CanaryVerdict = "path_works" | "path_fails" | "unexpected_answer";

export interface CanaryResult {
  verdict: CanaryVerdict;
  status?: number;
  reason?: string;
  detail: string;
}

/** 32 zero bytes in hex: well-formed, never a real device. */
export const CANARY_DEVICE_TOKEN = "0".repeat(64);

/** Reads one answer. APNs always answers errors with JSON `{"reason": "..."}` (§5.4). */
export function interpretCanaryAnswer(status: number, body: string): CanaryResult {
  let reason: string | undefined;
  try {
    const j = JSON.parse(body) as { reason?: unknown };
    if (j && typeof j.reason === "string") reason = j.reason;
  } catch {
    // not JSON
  }
  if (status === 200) return { verdict: "path_works", status, detail: "APNs accepted the push (200)" };
  if (reason) {
    const hint =
      reason === "BadDeviceToken"
        ? "the key and topic were accepted; only the dummy device token was refused"
        : reason === "InvalidProviderToken" || reason === "MissingProviderToken"
          ? "APNs refused the (throwaway or wrong) key, which it can only do after receiving the push"
          : "APNs answered in its own error format";
    return { verdict: "path_works", status, reason, detail: `APNs answered ${status} ${reason}: ${hint}` };
  }
  return { verdict: "unexpected_answer", status, detail: `HTTP ${status} without an APNs reason: something other than APNs answered (${body.slice(0, 120)})` };
}

export interface CanaryTransport {
  send(req: { host: string; deviceToken: string; topic: string; jwt: string; payload: string; headers: Record<string, string> }): Promise<{ status: number; body: string }>;
}

/** Sends the canary push through `transport` and says whether the path works. Never throws. */
export async function runApnsCanary(input: { transport: CanaryTransport; host: string; topic: string; jwt: string; now: number }): Promise<CanaryResult> {
  try {
    const res = await input.transport.send({
      host: input.host.replace(/\/+$/, ""),
      deviceToken: CANARY_DEVICE_TOKEN,
      topic: input.topic,
      jwt: input.jwt,
      payload: "{}",
      headers: {
        "apns-topic": input.topic,
        "apns-push-type": "background",
        "apns-priority": "5",
        "apns-expiration": "0",
        "content-type": "application/json",
      },
    });
    return interpretCanaryAnswer(res.status, res.body);
  } catch (e) {
    return { verdict: "path_fails", detail: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
}
