// `npm run apns:canary -- [options]`: which path reaches APNs? Sends one push to a dummy device token
// through each path asked for and prints a verdict per path. An answer in APNs's own format (400
// BadDeviceToken with a good key, 403 InvalidProviderToken with the throwaway key used when no --key is
// given) proves the path; a timeout, a refused connection or an HTTP/1 failure disproves it.
//
// Paths (--via, comma-separated; default: every path the options allow):
//   http2   this machine -> APNs with node:http2 (what the relay does)
//   fetch   this machine -> APNs with Node's fetch (HTTP/1.1: expected to fail; shows what a fetch
//           that cannot speak HTTP/2 looks like)
//   relay   this machine -> --relay URL (tools/apns-relay) -> APNs          needs --relay-secret
//   worker  a deployed passhook (--worker https://passhook.example.com) runs the canary with its own
//           fetch, the real question: POST {worker}/v1/operator/apns-canary (src/apple/operator-canary.ts)
//           with this run's host, topic and provider token; needs --admin-token (or ADMIN_TOKEN)
//
// Options: --host URL (default https://api.push.apple.com)  --topic pass.x.y (default pass.example.canary)
//          --key apns.p8 --key-id ABC123DEFG --team-id ABCDE12345 (default: a throwaway key)
//          --timeout ms (default 10000)
// Exit code 0 when at least one path works, 1 when none does, 2 on bad options.
import { createPrivateKey, generateKeyPairSync, randomBytes, sign as cryptoSign } from "node:crypto";
import { readFileSync } from "node:fs";
import http2 from "node:http2";
import { http2Send, sign as relaySign } from "../tools/apns-relay/relay.mjs";

const { interpretCanaryAnswer, CANARY_DEVICE_TOKEN } = await import("../src/apple/canary.ts");

const argv = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
};
const host = opt("host", "https://api.push.apple.com").replace(/\/+$/, "");
const topic = opt("topic", "pass.example.canary");
const timeoutMs = Number(opt("timeout", "10000"));
const relayUrl = opt("relay");
const relaySecret = opt("relay-secret", process.env.RELAY_SECRET);
const workerUrl = opt("worker");
const adminToken = opt("admin-token", process.env.ADMIN_TOKEN);
const defaultVia = ["http2", "fetch", ...(relayUrl ? ["relay"] : []), ...(workerUrl ? ["worker"] : [])];
const via = opt("via", defaultVia.join(",")).split(",").map((v) => v.trim()).filter(Boolean);

function usage(message) {
  console.error(`apns:canary: ${message}`);
  process.exit(2);
}
if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) usage("--timeout must be a positive number of milliseconds");
for (const v of via) if (!["http2", "fetch", "relay", "worker"].includes(v)) usage(`unknown path "${v}"`);
if (via.includes("relay") && (!relayUrl || !relaySecret)) usage("the relay path needs --relay URL and --relay-secret (or RELAY_SECRET)");
if (via.includes("worker") && (!workerUrl || !adminToken)) usage("the worker path needs --worker URL and --admin-token (or ADMIN_TOKEN)");

/** An ES256 provider token: from --key, or from a throwaway key APNs will refuse (which proves the path). */
function providerJwt() {
  const keyFile = opt("key");
  const key = keyFile ? createPrivateKey(readFileSync(keyFile)) : generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
  const kid = opt("key-id", "CANARY0000");
  const iss = opt("team-id", "CANARY0000");
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const input = `${b64({ alg: "ES256", kid })}.${b64({ iss, iat: Math.floor(Date.now() / 1000) })}`;
  const sig = cryptoSign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" }).toString("base64url");
  return { jwt: `${input}.${sig}`, throwaway: !keyFile };
}

const { jwt, throwaway } = providerJwt();
const headers = { "apns-topic": topic, "apns-push-type": "background", "apns-priority": "5", "apns-expiration": "0", "content-type": "application/json" };
const path = `${new URL(host).pathname.replace(/\/+$/, "")}/3/device/${CANARY_DEVICE_TOKEN}`;
const failed = (e) => ({ verdict: "path_fails", detail: `${e.code ?? e.name ?? "Error"}: ${e.message}${e.cause ? ` (${e.cause.code ?? e.cause.message})` : ""}` });

async function viaHttp2() {
  const session = http2.connect(new URL(host).origin);
  const broken = new Promise((_, reject) => session.once("error", reject));
  try {
    const answer = await Promise.race([http2Send(session, { path, headers: { ...headers, authorization: `bearer ${jwt}` }, payload: "{}" }, timeoutMs), broken]);
    return interpretCanaryAnswer(answer.status, answer.body);
  } catch (e) {
    return failed(e);
  } finally {
    session.destroy();
  }
}

async function viaFetch() {
  try {
    const res = await fetch(`${new URL(host).origin}${path}`, {
      method: "POST",
      headers: { ...headers, authorization: `bearer ${jwt}` },
      body: "{}",
      signal: AbortSignal.timeout(timeoutMs),
    });
    return interpretCanaryAnswer(res.status, await res.text());
  } catch (e) {
    return failed(e);
  }
}

async function viaRelay() {
  const body = JSON.stringify({ host, deviceToken: CANARY_DEVICE_TOKEN, topic, jwt, payload: "{}", headers, nonce: randomBytes(12).toString("hex") });
  const ts = Math.floor(Date.now() / 1000);
  try {
    const res = await fetch(relayUrl, {
      method: "POST",
      headers: { "content-type": "application/json", "x-passhook-relay-timestamp": String(ts), "x-passhook-relay-signature": relaySign(relaySecret, ts, body) },
      body,
      signal: AbortSignal.timeout(timeoutMs + 2000),
    });
    const text = await res.text();
    const own = res.headers.get("x-passhook-relay-error");
    if (own) return { verdict: "path_fails", status: res.status, detail: `the relay answered itself: ${own} (${text.slice(0, 160)})` };
    return interpretCanaryAnswer(res.status, text);
  } catch (e) {
    return failed(e);
  }
}

/** The operator route on the Worker at --worker (its base URL; the route's own URL is accepted too). */
function canaryRoute(base) {
  const url = new URL(base);
  if (!url.pathname.endsWith("/v1/operator/apns-canary")) url.pathname = `${url.pathname.replace(/\/+$/, "")}/v1/operator/apns-canary`;
  return url.href;
}

async function viaWorker() {
  try {
    const res = await fetch(canaryRoute(workerUrl), {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${adminToken}` },
      body: JSON.stringify({ host, topic, jwt }),
      signal: AbortSignal.timeout(timeoutMs + 5000),
    });
    const text = await res.text();
    if (!res.ok) return { verdict: "unexpected_answer", status: res.status, detail: `the Worker answered ${res.status}: ${text.slice(0, 160)}` };
    const result = JSON.parse(text);
    return { ...result, detail: `Worker fetch: ${result.detail}` };
  } catch (e) {
    return failed(e);
  }
}

const run = { http2: viaHttp2, fetch: viaFetch, relay: viaRelay, worker: viaWorker };
console.log(`APNs canary: ${host}, topic ${topic}, ${throwaway ? "throwaway key (expect 403 InvalidProviderToken)" : "your key (expect 400 BadDeviceToken)"}`);
let works = 0;
for (const v of via) {
  const r = await run[v]();
  if (r.verdict === "path_works") works++;
  const mark = r.verdict === "path_works" ? "WORKS" : r.verdict === "path_fails" ? "FAILS" : "UNCLEAR";
  console.log(`  ${v.padEnd(7)} ${mark.padEnd(8)} ${r.detail}`);
}
console.log(works ? `${works} of ${via.length} path(s) reach APNs.` : "No path reached APNs.");
process.exit(works ? 0 : 1);
