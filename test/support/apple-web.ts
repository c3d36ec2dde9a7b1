/**
 * Apple Wallet test helpers: a project with the test PKI's credentials (and an APNs key whose host is
 * the fake below), a callback server, registered devices, and the outside world at the fetch boundary:
 * APNs answering like APNs (JSON error bodies, `apns-id`, behaviour chosen by the device token) and
 * the customer's callback server recording what it receives.
 */
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { appleAuthToken } from "../../src/apple";
import { fixture, goodCredentials, identity } from "./apple-fixtures";
import { call, newProject, newTemplate, type TestProject } from "./http";
import { mockReceiver, until, type Received } from "./receiver";

/** Apple's production host (the only kind allowed without ALLOW_CUSTOM_APNS_HOST), mocked at fetch. */
export const APNS_HOST = "https://api.push.apple.com";
export const HOOKS = "https://hooks.customer.example/passhook";
export const PASS_TYPE = identity.passTypeIdentifier;

/** Device tokens and what the fake APNs does with each (apple-wallet.md §5.4). */
export const TOKENS = {
  ok: "a1".repeat(32),
  ok2: "a2".repeat(32),
  bad: "b0".repeat(32),
  gone: "c0".repeat(32),
  expiredJwt: "e0".repeat(32),
  busy: "d0".repeat(32),
  down: "d1".repeat(32),
  refused: "f0".repeat(32),
  goneLongAgo: "c1".repeat(32),
  unreachable: "f1".repeat(32),
};
/** The 410's `timestamp`: when APNs learnt the token is dead. */
export const GONE_AT = Date.parse("2030-01-01T00:00:00Z");

export interface ApnsRequestSeen extends Received {
  token: string;
  jwt: string;
}

/** APNs's answer to one request, like APNs: 200 with apns-id, or a status with `{reason[, timestamp]}`. */
function apnsAnswer(req: Received, expiredJwts: Set<string>): Response {
  const headers = { "apns-id": crypto.randomUUID(), "content-type": "application/json" };
  const fail = (status: number, reason: string, extra: Record<string, unknown> = {}) => new Response(JSON.stringify({ reason, ...extra }), { status, headers });
  const m = /^\/3\/device\/([0-9a-f]+)$/.exec(req.path);
  if (!m) return fail(404, "BadPath");
  const auth = req.headers.authorization ?? "";
  if (!auth.startsWith("bearer ")) return fail(403, "MissingProviderToken");
  if (!req.headers["apns-topic"]) return fail(400, "MissingTopic");
  if (req.body !== "{}") return fail(400, "PayloadEmpty");
  const jwt = auth.slice("bearer ".length);
  switch (m[1]) {
    case TOKENS.bad:
      return fail(400, "BadDeviceToken");
    case TOKENS.gone:
      return fail(410, "Unregistered", { timestamp: GONE_AT });
    case TOKENS.goneLongAgo:
      return fail(410, "Unregistered", { timestamp: Date.parse("2001-09-09T00:00:00Z") });
    case TOKENS.unreachable:
      throw new TypeError("Network connection lost.");
    case TOKENS.busy:
      return fail(429, "TooManyRequests");
    case TOKENS.down:
      return fail(503, "ServiceUnavailable");
    case TOKENS.refused:
      return fail(403, "InvalidProviderToken");
    case TOKENS.expiredJwt:
      // The first token it sees is "over an hour old"; a newly minted one is accepted.
      if (expiredJwts.size === 0 || expiredJwts.has(jwt)) {
        expiredJwts.add(jwt);
        return fail(403, "ExpiredProviderToken");
      }
      return new Response(null, { status: 200, headers: { "apns-id": headers["apns-id"] } });
    default:
      return new Response(null, { status: 200, headers: { "apns-id": headers["apns-id"] } });
  }
}

/** One fetch spy for both outside parties: APNs (at APNS_HOST) and the callback server. */
export function mockNetwork(opts: { apns?: (req: Received) => Response | undefined } = {}) {
  const apns: ApnsRequestSeen[] = [];
  const callbacks: Received[] = [];
  const expired = new Set<string>();
  const { spy } = mockReceiver((req) => {
    if (req.url.startsWith(APNS_HOST)) {
      apns.push({ ...req, token: req.path.split("/").pop() ?? "", jwt: (req.headers.authorization ?? "").replace(/^bearer /, "") });
      return opts.apns?.(req) ?? apnsAnswer(req, expired);
    }
    callbacks.push(req);
    return new Response("ok");
  });
  return { apns, callbacks, spy };
}

export interface AppleProject {
  p: TestProject;
  templateId: number;
}

/** A project with Apple credentials (APNs at the fake host), a callback server, and a loyalty template. */
export async function appleProject(opts: { apns?: boolean; template?: Record<string, unknown> } = {}): Promise<AppleProject> {
  const p = await newProject("Apple project");
  const body = {
    ...goodCredentials(),
    ...(opts.apns === false ? {} : { apns: { keyId: identity.apnsKeyId, teamId: identity.apnsTeamId, privateKeyPem: fixture("apns.p8"), host: APNS_HOST } }),
  };
  const put = await call(`/v1/project/${p.id}/credentials/apple`, { method: "PUT", auth: p.auth, body });
  expect(put.status, JSON.stringify(put.body)).toBe(200);
  expect((await call(`/v1/project/${p.id}/settings/callback`, { auth: p.auth, body: { baseUrl: HOOKS } })).status).toBe(200);
  let templateId: number;
  if (opts.template) {
    const t = await call(`/v1/project/${p.id}/templates`, { auth: p.auth, body: opts.template });
    expect(t.status, JSON.stringify(t.body)).toBe(201);
    templateId = t.body.id;
  } else templateId = await newTemplate(p);
  return { p, templateId };
}

export const applePass = async (serial: string) => `ApplePass ${await appleAuthToken(env, serial)}`;

export const registrationPath = (device: string, serial: string, passType = PASS_TYPE) => `/apple/v1/devices/${device}/registrations/${passType}/${serial}`;

/** Registers `device` for the pass; returns the status. */
export async function register(serial: string, device: string, pushToken: string = TOKENS.ok): Promise<number> {
  const r = await call(registrationPath(device, serial), { auth: await applePass(serial), body: { pushToken } });
  return r.status;
}

/**
 * Waits until every change is handed to the wallets and every Apple job has settled. A job waiting
 * for a retry (attempts > 0; only the consumer tests make those) does not count.
 */
export async function settled(): Promise<void> {
  await until(async () => {
    const outbox = await env.DB.prepare("select count(*) as n from outbox").first<{ n: number }>();
    const pending = await env.DB.prepare("select count(*) as n from wallet_jobs where wallet = 'apple' and state = 'pending' and attempts = 0").first<{ n: number }>();
    return outbox!.n === 0 && pending!.n === 0;
  });
}

export async function walletJobRow(subject: string) {
  return env.DB.prepare("select * from wallet_jobs where wallet = 'apple' and subject = ?").bind(subject).first<{ state: string; attempts: number; last_error: string | null; wanted_at: number; done_at: number }>();
}

export async function registrations(passId: number) {
  return (await env.DB.prepare("select * from apple_registrations where pass_id = ? order by device_library_id").bind(passId).all<Record<string, any>>()).results;
}
