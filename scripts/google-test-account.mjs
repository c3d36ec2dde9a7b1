// `npm run google:account`: throwaway Google credentials for local runs and the fake Google
// (`npm run google:fake`). Writes into .dev-certs/google/ (git-ignored):
//   service-account.json   a service-account key file shaped like Google's, with a fresh RSA key
//   credentials.json       the body for PUT /v1/project/{projectId}/credentials/google
//   callback-root.json     the fake's callback root signing key (P-256), which `npm run google:callback` signs with
// and prints the vars that point passhook at the fake. Nothing here is valid at Google.
// Re-running keeps existing files; pass --force to make new ones. GOOGLE_DEV_CERTS_DIR overrides the folder.
import { generateKeyPairSync, randomBytes, randomUUID } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { exportPrivateB64, newEcKey } from "./lib/google-chain.ts";

const root = path.resolve(import.meta.dirname, "..");
const dir = process.env.GOOGLE_DEV_CERTS_DIR ?? path.join(root, ".dev-certs", "google");
const force = process.argv.includes("--force");
const port = Number(process.env.GOOGLE_FAKE_PORT ?? 9100);
const fake = `http://127.0.0.1:${port}`;
const issuerId = process.env.GOOGLE_ISSUER_ID ?? "3388000000000000001";
const email = "passhook-dev@passhook-dev.iam.gserviceaccount.com";

mkdirSync(dir, { recursive: true });
const file = (name) => path.join(dir, name);

if (force || !existsSync(file("service-account.json"))) {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const pem = privateKey.export({ type: "pkcs8", format: "pem" });
  const account = {
    type: "service_account",
    project_id: "passhook-dev",
    private_key_id: randomBytes(20).toString("hex"),
    private_key: pem,
    client_email: email,
    client_id: String(100000000000000000000n + BigInt(randomBytes(6).readUIntBE(0, 6))),
    token_uri: `${fake}/token`,
  };
  writeFileSync(file("service-account.json"), JSON.stringify(account, null, 2) + "\n", { mode: 0o600 });
  writeFileSync(
    file("credentials.json"),
    JSON.stringify({ issuerId, serviceAccountEmail: email, privateKeyPem: pem, origins: ["http://localhost:8787"] }, null, 2) + "\n",
    { mode: 0o600 },
  );
  console.log(`wrote ${file("service-account.json")} and ${file("credentials.json")}`);
} else {
  console.log(`keeping ${file("service-account.json")} (--force to replace)`);
}

if (force || !existsSync(file("callback-root.json"))) {
  const rootKey = await newEcKey();
  const doc = {
    note: "Throwaway callback root key for the fake Google. Not Google's.",
    id: randomUUID(),
    privateKeyPkcs8B64: await exportPrivateB64(rootKey.privateKey),
    publicKeyB64: rootKey.publicKeyB64,
    keyExpiration: Date.now() + 365 * 24 * 3600 * 1000,
  };
  writeFileSync(file("callback-root.json"), JSON.stringify(doc, null, 2) + "\n", { mode: 0o600 });
  console.log(`wrote ${file("callback-root.json")}`);
}

console.log(`
Add to .dev.vars (then restart npm start) so passhook talks to the fake Google:

PUBLIC_URL=http://127.0.0.1:8787
GOOGLE_WALLET_API_URL=${fake}/walletobjects/v1
GOOGLE_OAUTH_TOKEN_URL=${fake}/token
GOOGLE_CALLBACK_KEYS_URL=${fake}/gp/m/issuer/keys
GOOGLE_CALLBACK_SENDER_ID=GooglePayPasses

Start the fake:            npm run google:fake
Store the credentials:     curl -s -X PUT http://127.0.0.1:8787/v1/project/prj_demo/credentials/google \\
                             -u pk_demo:sk_demo_local_only -H 'content-type: application/json' \\
                             -d @.dev-certs/google/credentials.json
Get a save link:           curl -s -u pk_demo:sk_demo_local_only http://127.0.0.1:8787/v1/pass/1/links
Send a signed save:        npm run google:callback -- --pass 1 --url http://127.0.0.1:8787/google/callback
(issuer id ${issuerId})`);
