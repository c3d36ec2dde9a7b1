/**
 * Apple Wallet end to end from outside the Worker (issue 13 "Tests", the README's walk-through): the
 * real Worker on the local runtime, a fresh throwaway CA from `npm run apple:test-certs`, credentials
 * uploaded by `npm run apple:demo`, pushes received by `npm run apns:fake`, callbacks by a local
 * receiver. A downloaded .pkpass (the project's and the public link's) has every manifest hash right,
 * a signature `openssl cms -verify` accepts against that CA, and a pass.json passkit-generator's schema
 * accepts; a device registered over HTTP brings the install callback; a listener update brings an APNs
 * push whose provider token verifies, and the pass served with a later Last-Modified.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash, createHmac, hkdfSync } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { strFromU8, unzipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { makeTestPki, openssl, tempDir } from "./support/openssl";
import { fromRoot } from "./support/repo";
import { startReceiver, waitFor, type LocalServer, type Received } from "./support/servers";
import { createProject, startWorker, TEST_SECRETS, type RunningWorker } from "./support/worker";

interface JoiSchema {
  validate(value: unknown, options?: { abortEarly?: boolean }): { error?: { message: string } };
}
const schemas = (await import(/* @vite-ignore */ fromRoot("node_modules/passkit-generator/lib/esm/schemas/index.js"))) as { PassProps: JoiSchema };

const PUBLIC_URL = "https://passhook.example";
const DEVICE_TOKEN = "5a".repeat(32);
const tmp = tempDir("apple-dl");
const pki = (name: string) => readFileSync(path.join(tmp.dir, name), "utf8");
let worker: RunningWorker;
let receiver: LocalServer & { received: Received[] };
let apns: ChildProcess;
let apnsUrl = "";
let apnsLog = "";
let project: { id: string; key: string; secret: string };
let auth = "";

beforeAll(async () => {
  makeTestPki(tmp.dir);
  apns = spawn(process.execPath, [fromRoot("scripts/apns-fake.mjs")], {
    env: { ...process.env, PORT: "0", APNS_PUBLIC_KEY: path.join(tmp.dir, "apns.pub.pem") },
    stdio: ["ignore", "pipe", "pipe"],
  });
  apns.stdout!.on("data", (c) => (apnsLog += c));
  apns.stderr!.on("data", (c) => (apnsLog += c));
  await vi.waitUntil(() => /listening on http:\/\/127\.0\.0\.1:\d+/.test(apnsLog), { timeout: 30_000, interval: 50 });
  apnsUrl = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(apnsLog)![1];
  receiver = await startReceiver();
  worker = await startWorker({ PUBLIC_URL, ALLOW_INSECURE_CALLBACKS: "true", ALLOW_CUSTOM_APNS_HOST: "true" });
  project = await createProject(worker.url, "Apple over HTTP");
  auth = `Basic ${Buffer.from(`${project.key}:${project.secret}`).toString("base64")}`;
});

afterAll(async () => {
  apns?.kill();
  await receiver?.close();
  await worker?.stop();
  tmp.remove();
});

async function api(pathname: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  const res = await fetch(`${worker.url}${pathname}`, {
    method: init.method ?? (init.body === undefined ? "GET" : "POST"),
    headers: { authorization: auth, ...(init.body === undefined ? {} : { "content-type": "application/json" }), ...init.headers },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  return res;
}

/** Unzips a bundle into `<name>-<file>` files and checks it: manifest hashes, signature, pass.json. */
function checkBundle(bytes: Uint8Array, name: string) {
  const files = unzipSync(bytes);
  for (const [file, data] of Object.entries(files)) writeFileSync(path.join(tmp.dir, `${name}-${file}`), data);
  const manifest = JSON.parse(strFromU8(files["manifest.json"])) as Record<string, string>;
  const hashed = Object.keys(files).filter((f) => f !== "manifest.json" && f !== "signature");
  expect(Object.keys(manifest).sort()).toEqual(hashed.sort());
  for (const f of hashed) expect(manifest[f], f).toBe(createHash("sha1").update(files[f]).digest("hex"));
  const verify = openssl(
    ["cms", "-verify", "-binary", "-inform", "DER", "-in", `${name}-signature`, "-content", `${name}-manifest.json`, "-CAfile", "root.pem", "-purpose", "any", "-out", "/dev/null"],
    tmp.dir,
  );
  expect(verify.output).toContain("Verification successful");
  const passJson = JSON.parse(strFromU8(files["pass.json"]));
  expect(schemas.PassProps.validate(passJson, { abortEarly: false }).error?.message).toBeUndefined();
  return { files, passJson };
}

/** The holder page token, derived here independently (HKDF-SHA256 of MASTER_KEY, then HMAC). */
function publicToken(id: number, serial: string): string {
  const key = Buffer.from(hkdfSync("sha256", Buffer.from(TEST_SECRETS.MASTER_KEY, "base64"), Buffer.alloc(32), "passhook/v1/pass-page-token", 32));
  const tag = createHmac("sha256", key).update(`pass-page:${id}:${serial}`).digest().subarray(0, 16).toString("base64url");
  return `${id.toString(36)}.${tag}`;
}

describe("Apple Wallet over HTTP", () => {
  it("downloads a signed pass, registers a device, pushes a listener update and serves it with a later Last-Modified", async () => {
    // Credentials through the demo script, with APNs at the local fake.
    const demo = spawnSync(process.execPath, [fromRoot("scripts/apple-demo.mjs")], {
      env: { ...process.env, PASSHOOK_URL: worker.url, PASSHOOK_PROJECT: project.id, PASSHOOK_KEY: project.key, PASSHOOK_SECRET: project.secret, APNS_HOST: apnsUrl, CERTS_DIR: tmp.dir },
      encoding: "utf8",
    });
    expect(demo.status, demo.stderr).toBe(0);
    expect(demo.stdout).toContain("Apple Wallet is set up");
    const identity = JSON.parse(pki("identity.json")) as { passTypeIdentifier: string; teamIdentifier: string; apnsKeyId: string; apnsTeamId: string };

    expect((await api(`/v1/project/${project.id}/settings/callback`, { body: { baseUrl: `${receiver.url}/cb` } })).status).toBe(200);
    const template = await (
      await api(`/v1/project/${project.id}/templates`, {
        body: {
          name: "Coffee card",
          passType: "loyalty",
          fields: [
            { key: "name", label: "Name", type: "text", required: true },
            { key: "points", label: "Points", type: "number", default: 0 },
            { key: "member", label: "Member", type: "barcode" },
          ],
          apple: { backgroundColor: "#3b2f2f", foregroundColor: "#ffffff", barcode: { field: "member", format: "qr" }, changeMessages: { points: "You have %@ points" } },
        },
      })
    ).json();
    const pass = await (await api(`/v1/template/${template.id}/pass`, { body: { externalId: "m-1", fields: { name: "Ada", points: 10, member: "M-0001" } } })).json();

    const dl = await api(`/v1/pass/${pass.id}/pkpass`);
    expect(dl.status).toBe(200);
    expect(dl.headers.get("content-type")).toBe("application/vnd.apple.pkpass");
    const { passJson } = checkBundle(new Uint8Array(await dl.arrayBuffer()), "project");
    expect(passJson).toMatchObject({ passTypeIdentifier: identity.passTypeIdentifier, teamIdentifier: identity.teamIdentifier, serialNumber: pass.serialNumber, webServiceURL: `${PUBLIC_URL}/apple` });
    expect(passJson.storeCard.primaryFields[0]).toMatchObject({ key: "name", value: "Ada" });
    const token = passJson.authenticationToken as string;
    expect(token.length).toBeGreaterThanOrEqual(16);

    const pub = await fetch(`${worker.url}/p/${publicToken(pass.id, pass.serialNumber)}/pass.pkpass`);
    expect(pub.status).toBe(200);
    expect(checkBundle(new Uint8Array(await pub.arrayBuffer()), "public").passJson.serialNumber).toBe(pass.serialNumber);

    // A device registers with the pass's own token: the install callback arrives.
    const registration = `${worker.url}/apple/v1/devices/node-device/registrations/${identity.passTypeIdentifier}/${pass.serialNumber}`;
    const reg = await fetch(registration, { method: "POST", headers: { authorization: `ApplePass ${token}`, "content-type": "application/json" }, body: JSON.stringify({ pushToken: DEVICE_TOKEN }) });
    expect(reg.status).toBe(201);
    const install = await waitFor("the install callback", () => receiver.received.find((r) => r.url === "/cb/v1/pass/install"));
    expect(JSON.parse(install.body)).toMatchObject({ passId: pass.id, serialNumber: pass.serialNumber, platform: "ios" });

    const latest = `${worker.url}/apple/v1/passes/${identity.passTypeIdentifier}/${pass.serialNumber}`;
    const before = await fetch(latest, { headers: { authorization: `ApplePass ${token}` } });
    expect(before.status).toBe(200);
    const lastModified = before.headers.get("last-modified")!;
    const answeredAt = Date.now();
    const list = await fetch(`${worker.url}/apple/v1/devices/node-device/registrations/${identity.passTypeIdentifier}`);
    const { lastUpdated } = (await list.json()) as { lastUpdated: string };

    // A listener update, at least a second later (Last-Modified has whole seconds).
    const integ = await (await api(`/v1/project/${project.id}/integrations`, { body: { templateId: template.id, action: "update" } })).json();
    await vi.waitUntil(() => Math.floor(Date.now() / 1000) > Math.floor(answeredAt / 1000), { timeout: 5000, interval: 50 });
    const hook = await fetch(integ.listenerUrl.replace(PUBLIC_URL, worker.url), { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ "pass-id": "m-1", points: 25 }) });
    expect(hook.status).toBe(200);

    await waitFor("the APNs push", () => (apnsLog.includes(`token=${DEVICE_TOKEN}`) ? true : undefined));
    expect(apnsLog).toContain(`topic=${identity.passTypeIdentifier}`);
    expect(apnsLog).toContain("body={}");
    expect(apnsLog).toContain(`kid=${identity.apnsKeyId} iss=${identity.apnsTeamId}`);
    expect(apnsLog).toContain("signature OK");

    const changed = await fetch(`${worker.url}/apple/v1/devices/node-device/registrations/${identity.passTypeIdentifier}?passesUpdatedSince=${lastUpdated}`);
    expect(changed.status).toBe(200);
    expect(((await changed.json()) as { serialNumbers: string[] }).serialNumbers).toEqual([pass.serialNumber]);
    const after = await fetch(latest, { headers: { authorization: `ApplePass ${token}`, "if-modified-since": lastModified } });
    expect(after.status).toBe(200);
    expect(Date.parse(after.headers.get("last-modified")!)).toBeGreaterThan(Date.parse(lastModified));
    const updated = checkBundle(new Uint8Array(await after.arrayBuffer()), "updated").passJson;
    expect(updated.storeCard.secondaryFields).toContainEqual(expect.objectContaining({ key: "points", value: 25, changeMessage: "You have %@ points" }));
    expect(updated.authenticationToken).toBe(token);
  });
});
