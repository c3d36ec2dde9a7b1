/**
 * Google, faked at the fetch boundary for the Google Wallet tests: the shared fake
 * (scripts/lib/google-fake-core.ts: OAuth token endpoint verifying assertions with the service
 * account's public key, Wallet Objects REST, the callback root keys) answers every request to
 * Google's hosts, and a customer's callback receiver answers the rest. A throwaway service account
 * (RSA) and callback root key (P-256) are made per test file.
 */
import { env } from "cloudflare:workers";
import { vi } from "vitest";
import { newEcKey, newIntermediate, rootKeysDocument, signedCallbackBody, type Intermediate, type KeyPairB64 } from "../../scripts/lib/google-chain";
import { createFakeGoogle, type FakeGoogle } from "../../scripts/lib/google-fake-core";
import { call, newProject, newTemplate, type TestProject } from "./http";

export const ISSUER = "3388000000022141777";
export const EMAIL = "passhook-test@passhook-dev.iam.gserviceaccount.com";
export const HOOKS = "https://hooks.customer.example/passhook";
const DAY = 86_400_000;

export interface GoogleWorld {
  fake: FakeGoogle;
  privateKeyPem: string;
  publicKey: CryptoKey;
  root: KeyPairB64;
  intermediate: Intermediate;
  /** Requests that reached the customer's callback server. */
  received: { path: string; json: Record<string, unknown>; headers: Record<string, string> }[];
  /** Every request to Google's hosts (method, URL, Authorization, body text), in order. */
  googleCalls: { method: string; url: string; auth: string | null; body: string }[];
}

async function rsaPem(): Promise<{ pem: string; publicKey: CryptoKey }> {
  const pair = (await crypto.subtle.generateKey({ name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }, true, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;
  const der = new Uint8Array((await crypto.subtle.exportKey("pkcs8", pair.privateKey)) as ArrayBuffer);
  const b64 = btoa(String.fromCharCode(...der));
  return { pem: `-----BEGIN PRIVATE KEY-----\n${b64.match(/.{1,64}/g)!.join("\n")}\n-----END PRIVATE KEY-----\n`, publicKey: pair.publicKey };
}

const GOOGLE_HOSTS = new Set([new URL(env.GOOGLE_WALLET_API_URL).host, new URL(env.GOOGLE_OAUTH_TOKEN_URL).host, new URL(env.GOOGLE_CALLBACK_KEYS_URL).host]);

/** Makes the throwaway keys and the fake; `install()` puts the fetch spy in place (call it in beforeEach). */
export async function googleWorld(): Promise<GoogleWorld & { install: () => void }> {
  const sa = await rsaPem();
  const root = await newEcKey();
  const intermediate = await newIntermediate(root.privateKey, { senderId: "GooglePayPasses", keyExpirationMs: Date.now() + 7 * DAY });
  const fake = createFakeGoogle({
    tokenUrl: env.GOOGLE_OAUTH_TOKEN_URL,
    publicKeys: new Map([[EMAIL, sa.publicKey]]),
    rootKeys: rootKeysDocument(root.publicKeyB64, Date.now() + 365 * DAY),
  });
  const world: GoogleWorld = { fake, privateKeyPem: sa.pem, publicKey: sa.publicKey, root, intermediate, received: [], googleCalls: [] };
  const install = () => {
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
      const req = new Request(input as RequestInfo, init);
      if (GOOGLE_HOSTS.has(new URL(req.url).host)) {
        world.googleCalls.push({ method: req.method, url: req.url, auth: req.headers.get("authorization"), body: req.method === "GET" ? "" : new TextDecoder().decode(await req.clone().arrayBuffer()) });
        return fake.handle(req);
      }
      const text = await req.text();
      world.received.push({ path: new URL(req.url).pathname, json: text ? JSON.parse(text) : {}, headers: Object.fromEntries(req.headers) });
      return new Response("ok");
    });
  };
  return { ...world, install };
}

export const credentialsBody = (w: Pick<GoogleWorld, "privateKeyPem">, over: Record<string, unknown> = {}) => ({
  issuerId: ISSUER,
  serviceAccountEmail: EMAIL,
  privateKeyPem: w.privateKeyPem,
  origins: ["https://shop.example.com"],
  ...over,
});

/** A project with Google credentials, a loyalty template and a registered callback receiver. */
export async function googleProject(w: Pick<GoogleWorld, "privateKeyPem">, opts: { template?: Record<string, unknown>; callbacks?: boolean } = {}): Promise<{ p: TestProject; t: number }> {
  const p = await newProject("Demo Shop");
  const put = await call(`/v1/project/${p.id}/credentials/google`, { method: "PUT", auth: p.auth, body: credentialsBody(w) });
  if (put.status !== 200) throw new Error(`credentials: ${put.status} ${JSON.stringify(put.body)}`);
  let t: number;
  if (opts.template) {
    const r = await call(`/v1/project/${p.id}/templates`, { auth: p.auth, body: opts.template });
    if (r.status !== 201) throw new Error(`template: ${r.status} ${JSON.stringify(r.body)}`);
    t = r.body.id;
  } else t = await newTemplate(p);
  if (opts.callbacks !== false) {
    const r = await call(`/v1/project/${p.id}/settings/callback`, { auth: p.auth, body: { baseUrl: HOOKS } });
    if (r.status !== 200) throw new Error(`callback registration: ${r.status}`);
  }
  return { p, t };
}

export const classIdOf = (projectId: string, templateId: number) => `${ISSUER}.${projectId}.t${templateId}`;
export const objectIdOf = (projectId: string, passId: number) => `${ISSUER}.${projectId}.p${passId}`;

/** A callback body signed through `intermediate` (default: the world's) for `recipient` (default: the issuer). */
export async function signedCallback(
  w: Pick<GoogleWorld, "intermediate">,
  msg: { classId: string; objectId: string; eventType?: "save" | "del"; nonce?: string; expTimeMillis?: number },
  opts: { intermediate?: Intermediate; recipient?: string; sender?: string } = {},
): Promise<string> {
  return signedCallbackBody({
    intermediate: opts.intermediate ?? w.intermediate,
    senderId: opts.sender ?? "GooglePayPasses",
    recipientId: opts.recipient ?? ISSUER,
    message: { eventType: "save", nonce: crypto.randomUUID(), expTimeMillis: Date.now() + 5 * 60_000, ...msg },
  });
}

/** The push job row of a subject. */
export async function googleJob(subject: string) {
  return env.DB.prepare("select * from wallet_jobs where wallet = 'google' and subject = ?").bind(subject).first<{ state: string; attempts: number; last_error: string | null; wanted_at: number; done_at: number }>();
}

export async function googleObjectRow(passId: number) {
  return env.DB.prepare("select * from google_objects where pass_id = ?").bind(passId).first<Record<string, unknown>>();
}
