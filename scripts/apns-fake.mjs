// `npm run apns:fake`: a stand-in for APNs on http://127.0.0.1:8791 (PORT to change), so the local
// walk-through can show passhook's pushes without Apple. It answers POST /3/device/{token} the way APNs
// does (200 with an apns-id; 403 MissingProviderToken without a bearer token; 400 MissingTopic without
// apns-topic; 404 BadPath elsewhere; JSON error bodies) and prints each push: device token, topic, push
// type, and the provider token's key id and team, with its signature checked against the .p8's public
// half: APNS_PUBLIC_KEY, by default .dev-certs/apple/apns.pub.pem (what `npm run apple:demo` uploads),
// read at each push, so the fake may start before the certificates exist.
//
// It speaks plain HTTP/1.1 on loopback, which only a local passhook accepts (ALLOW_CUSTOM_APNS_HOST=true);
// the real APNs is HTTP/2 over TLS (see tools/apns-relay and `npm run apns:canary`).
import { createPublicKey, randomUUID, verify } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import path from "node:path";

const port = Number(process.env.PORT ?? 8791);
const keyFile = path.resolve(import.meta.dirname, "..", process.env.APNS_PUBLIC_KEY ?? ".dev-certs/apple/apns.pub.pem");
const loadKey = () => (existsSync(keyFile) ? createPublicKey(readFileSync(keyFile)) : null);

/** `kid`, `iss` and whether the ES256 signature verifies (null when no public key was given). */
function readJwt(jwt) {
  const [h, p, s] = jwt.split(".");
  try {
    const publicKey = loadKey();
    const header = JSON.parse(Buffer.from(h, "base64url").toString());
    const claims = JSON.parse(Buffer.from(p, "base64url").toString());
    const ok = publicKey ? verify("sha256", Buffer.from(`${h}.${p}`), { key: publicKey, dsaEncoding: "ieee-p1363" }, Buffer.from(s, "base64url")) : null;
    return { kid: header.kid, iss: claims.iss, iat: claims.iat, ok };
  } catch {
    return { kid: "?", iss: "?", iat: 0, ok: false };
  }
}

const server = createServer((req, res) => {
  let body = "";
  req.on("data", (c) => (body += c));
  req.on("end", () => {
    const answer = (status, reason) => {
      res.writeHead(status, { "apns-id": randomUUID(), ...(reason ? { "content-type": "application/json" } : {}) });
      res.end(reason ? JSON.stringify({ reason }) : undefined);
    };
    const m = /^\/3\/device\/([0-9a-fA-F]+)$/.exec(req.url ?? "");
    if (req.method !== "POST" || !m) return answer(404, "BadPath");
    const auth = String(req.headers.authorization ?? "");
    if (!auth.startsWith("bearer ")) return answer(403, "MissingProviderToken");
    const topic = req.headers["apns-topic"];
    if (!topic) return answer(400, "MissingTopic");
    const jwt = readJwt(auth.slice("bearer ".length));
    if (jwt.ok === false) {
      console.log(`${new Date().toISOString()} APNs push REFUSED (provider token signature invalid) token=${m[1]}`);
      return answer(403, "InvalidProviderToken");
    }
    const checked = jwt.ok === null ? `signature not checked (no ${path.relative(process.cwd(), keyFile)})` : "signature OK";
    console.log(`${new Date().toISOString()} APNs push token=${m[1]} topic=${topic} push-type=${req.headers["apns-push-type"]} body=${body}`);
    console.log(`  provider token kid=${jwt.kid} iss=${jwt.iss} iat=${jwt.iat} ${checked}`);
    answer(200);
  });
});
server.listen(port, "127.0.0.1", () => console.log(`fake APNs listening on http://127.0.0.1:${server.address().port}`));
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => server.close(() => process.exit(0)));
