// passhook APNs relay: the Worker POSTs a signed push here over HTTP/1.1, the relay sends it to APNs
// over HTTP/2 (APNs speaks nothing else; whether a Worker's fetch does is unverified, apple-wallet.md
// §5.5) and answers with APNs's status, body and apns-id. It holds no Apple credential: the Worker
// sends the provider JWT with each push. It needs only the shared RELAY_SECRET.
//
// Request:  POST /push, JSON {host, deviceToken, topic, jwt, payload, headers}
//           x-passhook-relay-timestamp: <unix seconds>
//           x-passhook-relay-signature: v1=<hex HMAC-SHA256(RELAY_SECRET, "<timestamp>.<body>")>
// Refusals made by the relay itself carry `x-passhook-relay-error: <reason>`; everything else is APNs's.
//
// Run: RELAY_SECRET=... [PORT=8790] [HOST=127.0.0.1] [APNS_HOSTS=https://api.push.apple.com,...]
//      [TLS_CERT_FILE=... TLS_KEY_FILE=...] node tools/apns-relay/relay.mjs     (see README.md)
import { createHmac, createHash, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import http from "node:http";
import http2 from "node:http2";
import https from "node:https";
import { pathToFileURL } from "node:url";

export const TOLERANCE_SECONDS = 300;
export const MIN_SECRET_LENGTH = 32;
const MAX_BODY_BYTES = 16 * 1024;
const MAX_SESSIONS = 64;
const SESSION_IDLE_MS = 10 * 60 * 1000;
const DEVICE_TOKEN = /^[0-9a-fA-F]{16,200}$/;
const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const FORWARDED_HEADERS = new Set(["apns-topic", "apns-push-type", "apns-priority", "apns-expiration", "apns-collapse-id", "apns-id", "content-type"]);

/** `v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`, the same as src/apple/apns-transport.ts. */
export function sign(secret, timestamp, body) {
  return `v1=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

const digest = (s) => createHash("sha256").update(String(s)).digest();
/** Constant time, whatever the lengths: both sides are hashed first. */
const sameSecret = (a, b) => timingSafeEqual(digest(a), digest(b));

/** An APNs base URL as the allow-list and session map key it: origin + path, no trailing slash. */
export function normaliseHost(raw) {
  const u = new URL(raw);
  return `${u.origin}${u.pathname.replace(/\/+$/, "")}`;
}

/**
 * Sends one push over an HTTP/2 session and resolves `{status, body, apnsId}`; rejects with an Error
 * whose `code` is "apns_timeout" or "apns_unreachable". Exported for scripts/apns-canary.mjs.
 */
export function http2Send(session, { path, headers, payload }, timeoutMs) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const done = (fn, v) => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        fn(v);
      }
    };
    const fail = (code, message) => Object.assign(new Error(message), { code });
    let req;
    const timer = setTimeout(() => {
      req?.close(http2.constants.NGHTTP2_CANCEL);
      done(reject, fail("apns_timeout", `APNs did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    try {
      req = session.request({ ":method": "POST", ":path": path, ...headers });
    } catch (e) {
      return done(reject, fail("apns_unreachable", e.message));
    }
    let status = 0;
    let apnsId = null;
    const chunks = [];
    req.on("response", (h) => {
      status = Number(h[":status"]);
      apnsId = h["apns-id"] ?? null;
    });
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => done(resolve, { status, body: Buffer.concat(chunks).toString("utf8"), apnsId }));
    req.on("error", (e) => done(reject, fail("apns_unreachable", e.message)));
    req.end(payload);
  });
}

/** The JWT's `iss` (team id), read without verifying: APNs verifies it, we only group connections by it. */
function teamOf(jwt) {
  try {
    const claims = JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString("utf8"));
    return typeof claims.iss === "string" ? claims.iss : "";
  } catch {
    return "";
  }
}

/**
 * The relay's request handler and its HTTP/2 sessions. Options: secret, allowedHosts (APNs base URLs),
 * now (ms clock), apnsTimeoutMs, connectOptions (passed to http2.connect, e.g. {ca} in tests).
 */
export function createRelay({ secret, allowedHosts, now = Date.now, apnsTimeoutMs = 10_000, connectOptions = {} }) {
  if (typeof secret !== "string" || secret.length < MIN_SECRET_LENGTH) throw new Error(`RELAY_SECRET must have at least ${MIN_SECRET_LENGTH} characters`);
  const allowed = new Set(allowedHosts.map(normaliseHost));
  // One HTTP/2 session per APNs host and team: APNs ties a connection to the team of its first token
  // (apple-wallet.md §5.3 "one team per connection").
  const sessions = new Map();
  const seen = new Map(); // signature -> expiry (ms): a captured request is refused even inside the window

  function session(host, team) {
    const key = `${host}\u0000${team}`;
    const open = sessions.get(key);
    if (open && !open.closed && !open.destroyed) return open;
    const s = http2.connect(host, connectOptions);
    s.setTimeout(SESSION_IDLE_MS, () => s.close());
    const drop = () => {
      if (sessions.get(key) === s) sessions.delete(key);
    };
    s.on("error", drop);
    s.on("goaway", drop);
    s.on("close", drop);
    sessions.set(key, s);
    while (sessions.size > MAX_SESSIONS) {
      const [oldKey, old] = sessions.entries().next().value;
      sessions.delete(oldKey);
      old.close();
    }
    return s;
  }

  function refuse(res, status, reason, message) {
    res.writeHead(status, { "content-type": "application/json", "x-passhook-relay-error": reason });
    res.end(JSON.stringify({ error: reason, message }));
  }

  async function handle(req, res) {
    if (req.method === "GET" && req.url === "/health") {
      res.writeHead(200, { "content-type": "application/json" });
      return res.end('{"ok":true}');
    }
    if (req.method !== "POST" || req.url !== "/push") return refuse(res, 404, "not_found", "POST /push");
    const chunks = [];
    let size = 0;
    for await (const c of req) {
      size += c.length;
      if (size > MAX_BODY_BYTES) return refuse(res, 413, "too_large", `body over ${MAX_BODY_BYTES} bytes`);
      chunks.push(c);
    }
    const body = Buffer.concat(chunks).toString("utf8");

    const ts = Number(req.headers["x-passhook-relay-timestamp"]);
    const sig = String(req.headers["x-passhook-relay-signature"] ?? "");
    const nowMs = now();
    if (!Number.isSafeInteger(ts) || Math.abs(nowMs / 1000 - ts) > TOLERANCE_SECONDS)
      return refuse(res, 401, "stale_timestamp", `timestamp missing or more than ${TOLERANCE_SECONDS} s from the relay's clock`);
    if (!sameSecret(sig, sign(secret, ts, body))) return refuse(res, 401, "bad_signature", "signature does not match");
    for (const [s, exp] of seen) if (exp < nowMs) seen.delete(s);
    if (seen.has(sig)) return refuse(res, 409, "replayed", "this signed request was already relayed");
    seen.set(sig, nowMs + 2 * TOLERANCE_SECONDS * 1000);

    let push;
    try {
      push = JSON.parse(body);
    } catch {
      return refuse(res, 400, "bad_request", "body is not JSON");
    }
    const { host, deviceToken, topic, jwt, payload, headers } = push ?? {};
    if (typeof deviceToken !== "string" || !DEVICE_TOKEN.test(deviceToken)) return refuse(res, 400, "bad_request", "deviceToken must be hex");
    if (typeof topic !== "string" || !topic || typeof jwt !== "string" || !JWT.test(jwt)) return refuse(res, 400, "bad_request", "topic and jwt are required");
    if (typeof payload !== "string" || payload.length > 4096) return refuse(res, 400, "bad_request", "payload must be a string of at most 4096 characters");
    let base;
    try {
      base = normaliseHost(String(host));
    } catch {
      return refuse(res, 400, "bad_request", "host must be a URL");
    }
    if (!allowed.has(base)) return refuse(res, 403, "host_not_allowed", `host ${base} is not in APNS_HOSTS`);
    const forwarded = {};
    for (const [name, value] of Object.entries(headers ?? {})) {
      if (FORWARDED_HEADERS.has(name.toLowerCase()) && typeof value === "string") forwarded[name.toLowerCase()] = value;
    }
    forwarded["apns-topic"] ??= topic;
    forwarded.authorization = `bearer ${jwt}`;

    const url = new URL(base);
    try {
      const answer = await http2Send(
        session(url.origin, teamOf(jwt)),
        { path: `${url.pathname.replace(/\/+$/, "")}/3/device/${deviceToken}`, headers: forwarded, payload },
        apnsTimeoutMs,
      );
      res.writeHead(answer.status, { "content-type": "application/json", ...(answer.apnsId ? { "apns-id": answer.apnsId } : {}) });
      res.end(answer.body);
    } catch (e) {
      refuse(res, e.code === "apns_timeout" ? 504 : 502, e.code ?? "apns_unreachable", e.message);
    }
  }

  return {
    handler: (req, res) => handle(req, res).catch((e) => refuse(res, 500, "relay_failed", e.message)),
    sessionCount: () => sessions.size,
    close() {
      for (const s of sessions.values()) s.close();
      sessions.clear();
    },
  };
}

/** Starts the relay server; resolves with its URL and a close function. */
export function startRelay({ port = 8790, hostname = "127.0.0.1", tls, ...options }) {
  const relay = createRelay(options);
  const server = tls ? https.createServer(tls, relay.handler) : http.createServer(relay.handler);
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, hostname, () => {
      const { port: bound } = server.address();
      resolve({
        url: `${tls ? "https" : "http"}://${hostname}:${bound}`,
        relay,
        close: () =>
          new Promise((done) => {
            relay.close();
            server.closeAllConnections?.();
            server.close(() => done());
          }),
      });
    });
  });
}

async function main() {
  const env = process.env;
  const hosts = (env.APNS_HOSTS ?? env.APNS_HOST ?? "https://api.push.apple.com").split(",").map((h) => h.trim()).filter(Boolean);
  const tls = env.TLS_CERT_FILE && env.TLS_KEY_FILE ? { cert: readFileSync(env.TLS_CERT_FILE), key: readFileSync(env.TLS_KEY_FILE) } : undefined;
  try {
    const { url, close } = await startRelay({ secret: env.RELAY_SECRET, allowedHosts: hosts, port: Number(env.PORT ?? 8790), hostname: env.HOST ?? "127.0.0.1", tls });
    console.log(`apns-relay listening on ${url} for ${hosts.join(", ")}`);
    const stop = () => close().then(() => process.exit(0));
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
  } catch (e) {
    console.error(`apns-relay: ${e.message}`);
    process.exit(1);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) main();
