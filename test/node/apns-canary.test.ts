/**
 * `npm run apns:canary -- --via worker` end to end: the script asks the real Worker (local runtime,
 * ALLOW_CUSTOM_APNS_HOST so it may push to loopback) to run the canary through its operator route,
 * and the Worker's own fetch reaches a stand-in for APNs on 127.0.0.1 that answers like APNs does for
 * a dummy device token (400 BadDeviceToken). A wrong operator token never reaches APNs.
 */
import { spawn } from "node:child_process";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fromRoot } from "./support/repo";
import { startWorker, TEST_SECRETS, type RunningWorker } from "./support/worker";

let worker: RunningWorker;
let apns: Server;
let apnsUrl: string;
const seen: { url: string; headers: IncomingHttpHeaders; body: string }[] = [];

beforeAll(async () => {
  apns = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      seen.push({ url: req.url ?? "", headers: req.headers, body });
      res.writeHead(400, { "content-type": "application/json", "apns-id": "00000000-0000-0000-0000-000000000001" }).end(JSON.stringify({ reason: "BadDeviceToken" }));
    });
  });
  await new Promise<void>((resolve) => apns.listen(0, "127.0.0.1", resolve));
  apnsUrl = `http://127.0.0.1:${(apns.address() as AddressInfo).port}`;
  worker = await startWorker({ ALLOW_CUSTOM_APNS_HOST: "true" });
});

afterAll(async () => {
  await worker?.stop();
  await new Promise<void>((resolve) => (apns ? apns.close(() => resolve()) : resolve()));
});

/** Runs the script; resolves with its exit code and output. */
function canary(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fromRoot("scripts/apns-canary.mjs"), ...args], { env: { ...process.env, ADMIN_TOKEN: "" }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (c) => (out += c));
    child.stderr.on("data", (c) => (out += c));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, out }));
  });
}

describe("apns:canary --via worker", () => {
  it("runs the canary inside the Worker through the operator route", async () => {
    const r = await canary(["--via", "worker", "--worker", worker.url, "--admin-token", TEST_SECRETS.ADMIN_TOKEN, "--host", apnsUrl, "--topic", "pass.com.example.canary"]);
    expect(r.out).toMatch(/worker\s+WORKS\s+Worker fetch: APNs answered 400 BadDeviceToken/);
    expect(r.code).toBe(0);
    expect(seen).toHaveLength(1);
    expect(seen[0].url).toBe(`/3/device/${"0".repeat(64)}`);
    expect(seen[0].headers["apns-topic"]).toBe("pass.com.example.canary");
    expect(seen[0].headers.authorization).toMatch(/^bearer [\w-]+\.[\w-]+\.[\w-]+$/);
  });

  it("reports the Worker's refusal of a wrong operator token, and nothing reaches APNs", async () => {
    const before = seen.length;
    const r = await canary(["--via", "worker", "--worker", worker.url, "--admin-token", "not-the-token", "--host", apnsUrl]);
    expect(r.out).toMatch(/worker\s+UNCLEAR\s+the Worker answered 401/);
    expect(r.code).toBe(1);
    expect(seen.length).toBe(before);
  });
});
