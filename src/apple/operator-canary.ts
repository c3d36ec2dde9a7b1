/**
 * @module apple/operator-canary
 * `POST /v1/operator/apns-canary` (operator only): does this deployed Worker's own `fetch` reach APNs?
 * Runs canary.ts's one push to a dummy device token with `fetchTransport()` (not the relay: the relay
 * path is tested from the operator's machine by `npm run apns:canary -- --via relay`) and answers the
 * verdict. `scripts/apns-canary.mjs --via worker` calls it.
 *
 * The provider token is the caller's (`jwt`: the script signs one with `--key`, or a throwaway key),
 * or one the Worker signs with a throwaway key, which APNs can only refuse after receiving the push
 * (403 InvalidProviderToken), and that proves the path. The host obeys the credentials' rule: Apple's
 * two unless ALLOW_CUSTOM_APNS_HOST.
 */
import { generateKeyPair, SignJWT } from "jose";
import { z } from "zod";
import { validationError } from "../lib/errors";
import { parseWith } from "../lib/validation";
import { fetchTransport } from "./apns-transport";
import { runApnsCanary, type CanaryResult } from "./canary";
import { DEFAULT_APNS_HOST, normaliseApnsHost } from "./certificates";
import { allowCustomApnsHost } from "./config";

export const apnsCanaryBody = z
  .object({
    host: z.string().max(2048).optional(),
    topic: z
      .string()
      .regex(/^pass\.[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/, "must look like pass.com.example.loyalty")
      .max(128)
      .optional(),
    jwt: z
      .string()
      .regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, "must be a compact JWT")
      .max(2048)
      .optional(),
  })
  .strict();

const THROWAWAY_ID = "CANARY0000";

/** An ES256 provider token from a key made for this one call; APNs refuses it, after receiving the push. */
async function throwawayJwt(now: number): Promise<string> {
  const { privateKey } = await generateKeyPair("ES256");
  return new SignJWT({}).setProtectedHeader({ alg: "ES256", kid: THROWAWAY_ID }).setIssuer(THROWAWAY_ID).setIssuedAt(Math.floor(now / 1000)).sign(privateKey);
}

/** Runs the canary from this Worker. A bad body or a host that is not allowed is a 400; APNs trouble is a verdict. */
export async function operatorApnsCanary(env: Pick<Env, "ALLOW_CUSTOM_APNS_HOST">, raw: unknown, now = Date.now()): Promise<CanaryResult & { host: string; topic: string; throwawayKey: boolean }> {
  const body = parseWith(apnsCanaryBody, raw);
  const host = normaliseApnsHost(body.host ?? DEFAULT_APNS_HOST, allowCustomApnsHost(env));
  if (!host.ok) throw validationError([{ path: "host", message: host.error }], `host ${host.error}`);
  const topic = body.topic ?? "pass.example.canary";
  const jwt = body.jwt ?? (await throwawayJwt(now));
  const result = await runApnsCanary({ transport: fetchTransport(), host: host.value, topic, jwt, now });
  return { ...result, host: host.value, topic, throwawayKey: body.jwt === undefined };
}
