// `npm run google:fake`: a fake Google on http://127.0.0.1:9100 (GOOGLE_FAKE_PORT to change) for
// local runs, using the throwaway credentials of `npm run google:account`:
//   POST /token                          OAuth jwt-bearer grant; verifies the assertion with the service account's public key
//   /walletobjects/v1/{type}[/{id}]      classes and objects in memory: insert (409 on duplicates), get, update, patch, addMessage, list
//   GET  /gp/m/issuer/keys               the callback root key that `npm run google:callback` signs with
//   POST /_fake/objects/{id}/users       pretend a holder saved the object (hasUsers = true)
// Every request is printed, e.g. `PATCH /walletobjects/v1/loyaltyObject/… -> 200  state=EXPIRED`.
// The behaviour lives in scripts/lib/google-fake-core.ts, which the workerd tests use too.
import { createPublicKey, webcrypto } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import path from "node:path";
import { rootKeysDocument } from "./lib/google-chain.ts";
import { createFakeGoogle } from "./lib/google-fake-core.ts";

const root = path.resolve(import.meta.dirname, "..");
const dir = process.env.GOOGLE_DEV_CERTS_DIR ?? path.join(root, ".dev-certs", "google");
const port = Number(process.env.GOOGLE_FAKE_PORT ?? 9100);

for (const f of ["service-account.json", "callback-root.json"]) {
  if (!existsSync(path.join(dir, f))) {
    console.error(`missing .dev-certs/google/${f}: run \`npm run google:account\` first`);
    process.exit(1);
  }
}
const account = JSON.parse(readFileSync(path.join(dir, "service-account.json"), "utf8"));
const callbackRoot = JSON.parse(readFileSync(path.join(dir, "callback-root.json"), "utf8"));
const spki = createPublicKey(account.private_key).export({ type: "spki", format: "der" });
const publicKey = await webcrypto.subtle.importKey("spki", spki, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, ["verify"]);

// Port 0 picks a free port; the token URL (the assertion's audience) follows the real one.
let base = "";
let fake;
const makeFake = () =>
  createFakeGoogle({
    tokenUrl: `${base}/token`,
    publicKeys: new Map([[account.client_email, publicKey]]),
    rootKeys: rootKeysDocument(callbackRoot.publicKeyB64, callbackRoot.keyExpiration),
    log: (line) => console.log(`${new Date().toISOString()} ${line}`),
  });

const server = createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", async () => {
    try {
      const body = chunks.length && req.method !== "GET" && req.method !== "HEAD" ? Buffer.concat(chunks) : undefined;
      const request = new Request(`${base}${req.url}`, { method: req.method, headers: req.headers, body });
      const answer = await fake.handle(request);
      res.writeHead(answer.status, Object.fromEntries(answer.headers));
      res.end(Buffer.from(await answer.arrayBuffer()));
    } catch (e) {
      console.error(e);
      res.writeHead(500, { "content-type": "text/plain" });
      res.end("fake google crashed");
    }
  });
});
server.listen(port, "127.0.0.1", () => {
  base = `http://127.0.0.1:${server.address().port}`;
  fake = makeFake();
  console.log(`fake Google listening on ${base} (service account ${account.client_email})`);
});
