/**
 * The README's "Google Wallet" walk-through, run on the host with the real tools: `google:account`
 * makes a throwaway service account, `google:fake` serves Google on loopback, the Worker runs on the
 * local runtime pointed at the fake, the credentials body the script wrote is PUT, a save link is
 * fetched and verified (node:crypto against the service account's public key), `google:callback`
 * posts a signed save and the install callback reaches a receiver, and expiring the pass makes the
 * fake print the object PATCH with state EXPIRED.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createPublicKey, verify } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { fromRoot } from "./support/repo";
import { startReceiver, waitFor, type LocalServer, type Received } from "./support/servers";
import { createProject, startWorker, type RunningWorker } from "./support/worker";

const node = process.execPath;
const dir = mkdtempSync(path.join(tmpdir(), "passhook-google-flow-"));
const env = { ...process.env, GOOGLE_DEV_CERTS_DIR: dir };
let fake: ChildProcess;
let fakeLog = "";
let fakeBase = "";
let worker: RunningWorker;
let receiver: LocalServer & { received: Received[] };

beforeAll(async () => {
  const made = spawnSync(node, [fromRoot("scripts/google-test-account.mjs")], { env, encoding: "utf8" });
  expect(made.status, made.stderr).toBe(0);
  fake = spawn(node, [fromRoot("scripts/google-fake.mjs")], { env: { ...env, GOOGLE_FAKE_PORT: "0" }, stdio: ["ignore", "pipe", "pipe"] });
  fake.stdout!.on("data", (c) => (fakeLog += c));
  fake.stderr!.on("data", (c) => (fakeLog += c));
  await vi.waitUntil(() => /listening on http:\/\/127\.0\.0\.1:\d+/.test(fakeLog), { timeout: 30_000, interval: 50 });
  fakeBase = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(fakeLog)![1];
  receiver = await startReceiver();
  worker = await startWorker({
    PUBLIC_URL: "http://127.0.0.1:8787",
    ALLOW_INSECURE_CALLBACKS: "true",
    GOOGLE_WALLET_API_URL: `${fakeBase}/walletobjects/v1`,
    GOOGLE_OAUTH_TOKEN_URL: `${fakeBase}/token`,
    GOOGLE_CALLBACK_KEYS_URL: `${fakeBase}/gp/m/issuer/keys`,
    GOOGLE_CALLBACK_SENDER_ID: "GooglePayPasses",
  });
}, 90_000);

/** Runs a command without blocking the event loop. */
function run(cmd: string, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

afterAll(async () => {
  await worker?.stop();
  await receiver?.close();
  fake?.kill();
  rmSync(dir, { recursive: true, force: true });
});

describe("Google Wallet walk-through", () => {
  it("credentials, save link, signed save -> install callback, expire -> PATCH state EXPIRED", async () => {
    const p = await createProject(worker.url, "Demo coffee shop");
    const auth = `Basic ${Buffer.from(`${p.key}:${p.secret}`).toString("base64")}`;
    const api = async (method: string, route: string, body?: unknown) => {
      const res = await fetch(`${worker.url}${route}`, {
        method,
        headers: { authorization: auth, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, any> };
    };
    const t = await api("POST", `/v1/project/${p.id}/templates`, { name: "Demo loyalty card", passType: "loyalty", fields: [{ key: "name", label: "Member", type: "text", required: true }] });
    expect(t.status).toBe(201);
    const pass = await api("POST", `/v1/template/${t.body.id}/pass`, { externalId: "member-1", fields: { name: "Ada Lovelace" } });
    expect(pass.status).toBe(201);
    expect((await api("POST", `/v1/project/${p.id}/settings/callback`, { baseUrl: `${receiver.url}/callbacks` })).status).toBe(200);

    const creds = await api("PUT", `/v1/project/${p.id}/credentials/google`, readFileSync(path.join(dir, "credentials.json"), "utf8"));
    expect(creds.status, JSON.stringify(creds.body)).toBe(200);
    expect(JSON.stringify(creds.body)).not.toContain("PRIVATE KEY");

    const links = await api("GET", `/v1/pass/${pass.body.id}/links`);
    expect(links.status).toBe(200);
    const jwt = String(links.body.google).replace("https://pay.google.com/gp/v/save/", "");
    const [h, c, s] = jwt.split(".");
    const account = JSON.parse(readFileSync(path.join(dir, "service-account.json"), "utf8"));
    expect(verify("RSA-SHA256", Buffer.from(`${h}.${c}`), createPublicKey(account.private_key), Buffer.from(s, "base64url"))).toBe(true);
    const claims = JSON.parse(Buffer.from(c, "base64url").toString());
    expect(claims).toMatchObject({ iss: account.client_email, aud: "google", typ: "savetowallet" });
    const objectId = claims.payload.loyaltyObjects[0].id as string;
    expect(objectId).toBe(`${JSON.parse(readFileSync(path.join(dir, "credentials.json"), "utf8")).issuerId}.${p.id}.p${pass.body.id}`);
    await waitFor("the object insert", () => (fakeLog.includes(`POST /walletobjects/v1/loyaltyObject -> 200  id=${objectId}`) ? true : undefined));

    // Not spawnSync: the local runtime's outbound requests pass through this process's event loop.
    const sent = await run(node, [fromRoot("scripts/google-callback.mjs"), "--pass", String(pass.body.id), "--project", p.id, "--template", String(t.body.id), "--url", `${worker.url}/google/callback`]);
    expect(sent.status, `${sent.stdout}${sent.stderr}`).toBe(0);
    expect(sent.stdout).toContain("-> 200");
    const install = await waitFor("the install callback", () => receiver.received.find((r) => r.url === "/callbacks/v1/pass/install"));
    expect(JSON.parse(install.body)).toMatchObject({ passId: pass.body.id, externalId: "member-1", platform: "android" });

    expect((await api("POST", `/v1/pass/${pass.body.id}/status`, { status: "expired" })).status).toBe(200);
    await waitFor("the PATCH with state EXPIRED", () => (new RegExp(`PATCH /walletobjects/v1/loyaltyObject/${objectId.replace(/\./g, "\\.")} -> 200 .*state=EXPIRED`).test(fakeLog) ? true : undefined), 30_000).catch((e) => {
      throw new Error(`${e.message}\nfake:\n${fakeLog}\nworker:\n${worker.logs().slice(-30).join("\n")}`);
    });
  });
});
