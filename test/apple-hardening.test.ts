/**
 * Apple Wallet against a hostile caller (review findings): the personalize endpoint is no signing
 * oracle (opaque tokens only, the first token only, rate limited per pass); APNs hosts are Apple's
 * unless a development flag allows others; one project's hanging APNs host neither starves another
 * project's pushes nor keeps a batch past its deadline; the operator APNs canary route; no query
 * parameters in job errors; a total image cap per template; the pass type cannot change under issued
 * passes; relay refusals that will not change fail at once. Outside parties are `fetch` mocks.
 */
import { env, exports } from "cloudflare:workers";
import * as pkijs from "pkijs";
import { afterEach, describe, expect, it, vi } from "vitest";
import { personalizeBody } from "../src/apple";
import { fixture } from "./support/apple-fixtures";
import { appleProject, mockNetwork, PASS_TYPE } from "./support/apple-web";
import { BASE, LOYALTY_FIELDS, newPass } from "./support/http";

afterEach(() => vi.restoreAllMocks());

/** A request to the Worker with raw bytes in and out. */
async function raw(path: string, init: RequestInit & { auth?: string } = {}) {
  const headers = new Headers(init.headers);
  if (init.auth) headers.set("authorization", init.auth);
  const res = await exports.default.fetch(`${BASE}${path}`, { ...init, headers });
  return { status: res.status, headers: res.headers, bytes: new Uint8Array(await res.arrayBuffer()) };
}

const NFC_KEY = fixture("apns.pub.pem").replace(/-----[^-]+-----|\s/g, "");
const rootCert = () => pkijs.Certificate.fromBER(Uint8Array.from(atob(fixture("root.pem").replace(/-----[^-]+-----|\s/g, "")), (c) => c.charCodeAt(0)));

/** Whether `signature` (DER CMS) is the pass certificate's signature over `data`, chaining to the test root. */
async function signs(signature: Uint8Array, data: string): Promise<boolean> {
  const signed = new pkijs.SignedData({ schema: pkijs.ContentInfo.fromBER(signature).content });
  return signed.verify({ signer: 0, data: new TextEncoder().encode(data).buffer as ArrayBuffer, trustedCerts: [rootCert()], checkChain: true });
}

describe("personalize is not a signing oracle", () => {
  const template = {
    name: "Rewards",
    passType: "loyalty",
    fields: LOYALTY_FIELDS,
    apple: {
      nfc: { message: "member", encryptionPublicKey: NFC_KEY },
      personalization: { requiredFields: ["PKPassPersonalizationFieldName"], description: "Join" },
    },
  };
  const personalize = (serial: string, token: string, info: Record<string, string>) =>
    raw(`/apple/v1/passes/${PASS_TYPE}/${serial}/personalize`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ personalizationToken: token, requiredPersonalizationInfo: info }),
    });

  it("accepts only an opaque token: base64, base64url or hex characters, at most 1024", () => {
    const ok = (t: string) => personalizeBody.safeParse({ personalizationToken: t }).success;
    for (const t of ["t0k", "q83vEjRWeJA=", "q83v-EjRW_eJA", "0123456789abcdef", "a+b/c==", "x".repeat(1024)]) expect(ok(t), t).toBe(true);
    const manifest = JSON.stringify({ "pass.json": "a".repeat(40) });
    for (const t of [manifest, "{}", '"abc"', "abc def", "abc\n", "\tabc", "a:b", "a,b", "x".repeat(1025), ""]) expect(ok(t), t).toBe(false);
  });

  it("refuses a forged manifest as the token, and re-signs only the first token", async () => {
    mockNetwork();
    const a = await appleProject({ template });
    const pass = await newPass(a.p, a.templateId, "oracle-1");
    const forged = JSON.stringify({ "pass.json": "a".repeat(40), "icon.png": "b".repeat(40) });
    const first = await personalize(pass.serialNumber, forged, { fullName: "Eve" });
    expect(first.status).toBe(400);
    expect(await env.DB.prepare("select count(*) as n from apple_personalizations").first<{ n: number }>()).toEqual({ n: 0 });

    const signedUp = await personalize(pass.serialNumber, "dG9rZW4tZnJvbS13YWxsZXQ=", { fullName: "Eve" });
    expect(signedUp.status).toBe(200);
    expect(await signs(signedUp.bytes, "dG9rZW4tZnJvbS13YWxsZXQ=")).toBe(true);
    // A lost answer: the same sign-up with the same token is signed again.
    const again = await personalize(pass.serialNumber, "dG9rZW4tZnJvbS13YWxsZXQ=", { fullName: "Eve" });
    expect(again.status).toBe(200);
    expect(await signs(again.bytes, "dG9rZW4tZnJvbS13YWxsZXQ=")).toBe(true);
    // The same data with another token is a conflict, like other data: nothing else gets signed.
    const other = await personalize(pass.serialNumber, "c29tZXRoaW5nLWVsc2U=", { fullName: "Eve" });
    expect(other.status).toBe(409);
    expect(new TextDecoder().decode(other.bytes)).toContain("conflict");
    const row = await env.DB.prepare("select token_hash from apple_personalizations").first<{ token_hash: string }>();
    expect(row!.token_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("never signs again for a sign-up stored before token hashes were kept", async () => {
    mockNetwork();
    const a = await appleProject({ template });
    const pass = await newPass(a.p, a.templateId, "legacy-1");
    expect((await personalize(pass.serialNumber, "bGVnYWN5", { fullName: "Ada" })).status).toBe(200);
    await env.DB.prepare("update apple_personalizations set token_hash = null where pass_id = ?").bind(pass.id).run();
    expect((await personalize(pass.serialNumber, "bGVnYWN5", { fullName: "Ada" })).status).toBe(409);
  });

  it("limits calls per pass (refused ones count), and another pass keeps its own budget", async () => {
    mockNetwork();
    const a = await appleProject({ template });
    const pass = await newPass(a.p, a.templateId, "flood-1");
    const other = await newPass(a.p, a.templateId, "flood-2");
    // The test binding allows 5 a minute per key (windows aligned to the clock): forged tokens are
    // refused with 400 until the limit answers 429, whichever minute the calls fall in.
    const statuses: number[] = [];
    let limited: Awaited<ReturnType<typeof personalize>> | undefined;
    for (let i = 0; i < 30 && !limited; i++) {
      const r = await personalize(pass.serialNumber, `{"n":${i}}`, { fullName: "Eve" });
      statuses.push(r.status);
      if (r.status === 429) limited = r;
    }
    expect(limited, JSON.stringify(statuses)).toBeDefined();
    expect(statuses.slice(0, -1).every((s) => s === 400)).toBe(true);
    expect(limited!.headers.get("retry-after")).toBe("60");
    expect((await personalize(other.serialNumber, "dG9rZW4=", { fullName: "Ada" })).status).toBe(200);
  });
});
