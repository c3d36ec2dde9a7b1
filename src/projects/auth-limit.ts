/**
 * @module projects/auth-limit
 * Slows credential guessing on every door that takes a secret: the REST API's Basic and bearer auth,
 * the operator routes, the dashboard's sign-in. Each client (lib/client.ts: an IPv4 address, an IPv6
 * /64) has one budget in `AUTH_RATE_LIMIT` (10 a minute), spent by every sign-in attempt and by every
 * request that carried wrong credentials. Past it, the client is refused outright for a minute, right
 * credentials included, so a right guess gains nothing. The binding cannot be asked without counting,
 * so "over budget" is remembered per isolate (at most 1000 clients); Cloudflare's counters are
 * approximate. Requests without a client address (local tools, tests) are not limited.
 */
import { AppError } from "../lib/errors";
import { clientKey } from "../lib/client";
import { TtlCache } from "../lib/ttl-cache";

export const AUTH_BLOCK_SECONDS = 60;
const blocked = new TtlCache<string, true>(AUTH_BLOCK_SECONDS * 1000, 1000);

function tooMany(): AppError {
  return new AppError("rate_limited", "Too many failed authentication attempts from your address; wait a minute.", null, { "Retry-After": String(AUTH_BLOCK_SECONDS) });
}

/** Throws 429 when the client went over its budget in the last minute (checked before any secret). */
export function refuseBlockedClient(ip: string | null | undefined, now = Date.now()): void {
  const key = clientKey(ip);
  if (key !== undefined && blocked.get(key, now)) throw tooMany();
}

/** Spends one attempt of the client's budget; throws 429 (and blocks it for a minute) once it is over. */
export async function spendAuthAttempt(env: Pick<Env, "AUTH_RATE_LIMIT">, ip: string | null | undefined, now = Date.now()): Promise<void> {
  const key = clientKey(ip);
  if (key === undefined) return;
  const { success } = await env.AUTH_RATE_LIMIT.limit({ key: `auth:${key}` });
  if (!success) {
    blocked.set(key, true, now);
    throw tooMany();
  }
}
