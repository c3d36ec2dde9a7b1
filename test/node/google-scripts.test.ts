/**
 * The local Google tooling on the host: `google:account` writes a throwaway service account and
 * callback root key, `google:fake` serves Google's token, Wallet Objects and root-keys endpoints on
 * loopback, and `google:callback` signs a callback whose ECv2SigningOnly chain verifies under the
 * root key the fake serves. Everything is checked with independent tools: assertions are signed here
 * with jose, signatures verified with node:crypto (which reads DER ECDSA signatures natively).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createPublicKey, verify } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { importPKCS8, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { fromRoot } from "./support/repo";

const node = process.execPath;
const dir = mkdtempSync(path.join(tmpdir(), "passhook-google-"));
const env = { ...process.env, GOOGLE_DEV_CERTS_DIR: dir };
let fake: ChildProcess;
let base = "";
let log = "";

beforeAll(async () => {
  const made = spawnSync(node, [fromRoot("scripts/google-test-account.mjs")], { env, encoding: "utf8" });
  expect(made.status, made.stderr).toBe(0);
  fake = spawn(node, [fromRoot("scripts/google-fake.mjs")], { env: { ...env, GOOGLE_FAKE_PORT: "0" }, stdio: ["ignore", "pipe", "pipe"] });
  fake.stdout!.on("data", (c) => (log += c));
  fake.stderr!.on("data", (c) => (log += c));
  await vi.waitUntil(() => /listening on http:\/\/127\.0\.0\.1:\d+/.test(log), { timeout: 30_000, interval: 50 });
  base = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(log)![1];
});

afterAll(() => {
  fake?.kill();
  rmSync(dir, { recursive: true, force: true });
});

const account = () => JSON.parse(readFileSync(path.join(dir, "service-account.json"), "utf8"));

async function assertion(aud: string) {
  const sa = account();
  const key = await importPKCS8(sa.private_key, "RS256");
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ scope: "https://www.googleapis.com/auth/wallet_object.issuer" })
    .setProtectedHeader({ alg: "RS256", typ: "JWT" })
    .setIssuer(sa.client_email)
    .setAudience(aud)
    .setIssuedAt(now)
    .setExpirationTime(now + 3600)
    .sign(key);
}

const token = (jwt: string) =>
  fetch(`${base}/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion: jwt }),
  });

describe("google:account + google:fake + google:callback", () => {
  it("writes credentials the API accepts in shape", () => {
    const creds = JSON.parse(readFileSync(path.join(dir, "credentials.json"), "utf8"));
    expect(creds).toMatchObject({ issuerId: expect.stringMatching(/^\d+$/), serviceAccountEmail: account().client_email, origins: ["http://localhost:8787"] });
    expect(creds.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
  });

  it("the fake's token endpoint verifies the assertion with the service account's key", async () => {
    const ok = await token(await assertion(`${base}/token`));
    expect(ok.status).toBe(200);
    const body = await ok.json();
    expect(body).toMatchObject({ token_type: "Bearer", expires_in: 3599, access_token: expect.any(String) });

    const wrongAud = await token(await assertion("https://oauth2.googleapis.com/token"));
    expect(wrongAud.status).toBe(400);
    expect(await wrongAud.json()).toEqual({ error: "invalid_grant", error_description: "Invalid JWT Signature." });

    const auth = { authorization: `Bearer ${body.access_token}`, "content-type": "application/json" };
    const issuer = JSON.parse(readFileSync(path.join(dir, "credentials.json"), "utf8")).issuerId;
    const classId = `${issuer}.prj_demo.t1`;
    const objectId = `${issuer}.prj_demo.p1`;
    const post = (p: string, b: unknown, method = "POST") => fetch(`${base}/walletobjects/v1/${p}`, { method, headers: auth, body: JSON.stringify(b) });
    expect((await post("genericClass", { id: classId })).status).toBe(200);
    expect((await post("genericClass", { id: classId })).status).toBe(409);
    expect((await post("genericObject", { id: objectId, classId, state: "ACTIVE" })).status).toBe(200);
    expect((await post(`genericObject/${objectId}`, { state: "EXPIRED" }, "PATCH")).status).toBe(200);
    const unauth = await fetch(`${base}/walletobjects/v1/genericObject/${objectId}`);
    expect(unauth.status).toBe(401);
    await expect.poll(() => log, { timeout: 10_000 }).toContain(`PATCH /walletobjects/v1/genericObject/${objectId} -> 200  state=EXPIRED`);
  });

  it("google:callback signs a callback that verifies with the root keys the fake serves", async () => {
    const issuer = JSON.parse(readFileSync(path.join(dir, "credentials.json"), "utf8")).issuerId;
    const args = ["--object", `${issuer}.prj_demo.p1`, "--class", `${issuer}.prj_demo.t1`, "--event", "del", "--nonce", "n-1"];
    const out = spawnSync(node, [fromRoot("scripts/google-callback.mjs"), ...args], { env, encoding: "utf8" });
    expect(out.status, out.stderr).toBe(0);
    const keysRes = await fetch(`${base}/gp/m/issuer/keys`);
    expect(keysRes.headers.get("cache-control")).toMatch(/max-age=\d+/);
    const [rootKey] = (await keysRes.json()).keys;
    expect(rootKey).toMatchObject({ protocolVersion: "ECv2SigningOnly", keyExpiration: expect.stringMatching(/^\d+$/) });
    expect(Number(rootKey.keyExpiration)).toBeGreaterThan(Date.now());

    const lv = (...parts: string[]) =>
      Buffer.concat(
        parts.flatMap((p) => {
          const bytes = Buffer.from(p, "utf8");
          const len = Buffer.alloc(4);
          len.writeUInt32LE(bytes.length);
          return [len, bytes];
        }),
      );
    const spki = (b64: string) => createPublicKey({ key: Buffer.from(b64, "base64"), format: "der", type: "spki" });
    const body = JSON.parse(out.stdout);
    expect(body.protocolVersion).toBe("ECv2SigningOnly");
    const { signedKey, signatures } = body.intermediateSigningKey;
    expect(verify("sha256", lv("GooglePayPasses", "ECv2SigningOnly", signedKey), spki(rootKey.keyValue), Buffer.from(signatures[0], "base64"))).toBe(true);
    const intermediate = JSON.parse(signedKey);
    expect(Number(intermediate.keyExpiration)).toBeGreaterThan(Date.now());
    const signed = lv("GooglePayPasses", issuer, "ECv2SigningOnly", body.signedMessage);
    expect(verify("sha256", signed, spki(intermediate.keyValue), Buffer.from(body.signature, "base64"))).toBe(true);
    expect(verify("sha256", lv("GooglePayPasses", "1234", "ECv2SigningOnly", body.signedMessage), spki(intermediate.keyValue), Buffer.from(body.signature, "base64"))).toBe(false);
    const message = JSON.parse(body.signedMessage);
    expect(message).toMatchObject({ eventType: "del", nonce: "n-1", objectId: `${issuer}.prj_demo.p1`, classId: `${issuer}.prj_demo.t1` });
    expect(message.expTimeMillis).toBeGreaterThan(Date.now());

    const expired = spawnSync(node, [fromRoot("scripts/google-callback.mjs"), ...args, "--expired"], { env, encoding: "utf8" });
    expect(JSON.parse(JSON.parse(expired.stdout).signedMessage).expTimeMillis).toBeLessThan(Date.now());
  });
});
