/**
 * @module google/callback-guard
 * A cheap brake on forged callbacks at `POST /google/callback`. A forgery costs us a D1 read and a
 * decryption (the project it names), several ECDSA verifications and, at most once a minute, a
 * forced download of Google's root keys. Each client address may fail verification 60 times a minute
 * (the WALLET_CALLBACK_RATE_LIMIT binding, key `google-callback:<address>`); past that, its requests
 * are answered 429 before any of that work for the rest of the minute. Only failures count, so
 * Google's own traffic, which verifies, is never limited however busy it is.
 *
 * The binding cannot be asked without counting, so "over the limit" is remembered per isolate
 * (at most 1000 addresses, oldest first): each isolate does the expensive work for at most one
 * more failure per address and minute once the shared count is exceeded.
 */
import { TtlCache } from "../lib/ttl-cache";

export const BLOCK_MS = 60_000;
const blocked = new TtlCache<string, true>(BLOCK_MS, 1000);

/** Whether `client` is over its failure budget (checked before any work). */
export function callbackClientBlocked(client: string, now: number): boolean {
  return blocked.get(client, now) === true;
}

/** Counts a failed verification from `client`; over the budget, the address is blocked for a minute. */
export async function noteCallbackFailure(env: Pick<Env, "WALLET_CALLBACK_RATE_LIMIT">, client: string, now: number): Promise<void> {
  const { success } = await env.WALLET_CALLBACK_RATE_LIMIT.limit({ key: `google-callback:${client}` });
  if (!success) {
    blocked.set(client, true, now);
    console.log(JSON.stringify({ msg: "google callback failures over the limit; address blocked for a minute" }));
  }
}
