// `npm run apple:demo`: sets the demo project up for Apple Wallet on a running local passhook
// (`npm start`). Makes the throwaway test certificates when .dev-certs/apple/ has none
// (`npm run apple:test-certs`: a stand-in for Apple's PKI that no iPhone trusts), then uploads them as the
// project's Apple credentials with the APNs host pointing at the local fake APNs (`npm run apns:fake`),
// and prints the next steps of the README's Apple Wallet walk-through.
//
// Env (defaults are npm start's demo): PASSHOOK_URL (http://127.0.0.1:8787), PASSHOOK_PROJECT (prj_demo),
// PASSHOOK_KEY / PASSHOOK_SECRET (pk_demo / sk_demo_local_only), APNS_HOST (http://127.0.0.1:8791),
// CERTS_DIR (.dev-certs/apple).
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const base = (process.env.PASSHOOK_URL ?? "http://127.0.0.1:8787").replace(/\/+$/, "");
const project = process.env.PASSHOOK_PROJECT ?? "prj_demo";
const key = process.env.PASSHOOK_KEY ?? "pk_demo";
const secret = process.env.PASSHOOK_SECRET ?? "sk_demo_local_only";
const apnsHost = process.env.APNS_HOST ?? "http://127.0.0.1:8791";
const certs = path.resolve(root, process.env.CERTS_DIR ?? ".dev-certs/apple");

if (!existsSync(path.join(certs, "pass.pem"))) {
  console.log(`no test certificates in ${certs}: making them (npm run apple:test-certs)`);
  execFileSync(process.execPath, [path.join(root, "scripts/apple-test-certs.mjs"), certs], { stdio: "inherit" });
}
const read = (name) => readFileSync(path.join(certs, name), "utf8");
const identity = JSON.parse(read("identity.json"));

const body = {
  passTypeIdentifier: identity.passTypeIdentifier,
  teamIdentifier: identity.teamIdentifier,
  certificatePem: read("pass.pem"),
  privateKeyPem: read("pass.key"),
  wwdrCertificatePem: read("wwdr.pem"),
  apns: { keyId: identity.apnsKeyId, teamId: identity.apnsTeamId, privateKeyPem: read("apns.p8"), host: apnsHost },
};
const auth = `Basic ${Buffer.from(`${key}:${secret}`).toString("base64")}`;
let res;
try {
  res = await fetch(`${base}/v1/project/${project}/credentials/apple`, {
    method: "PUT",
    headers: { authorization: auth, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
} catch (e) {
  console.error(`passhook is not answering on ${base} (${e instanceof Error ? e.message : e}): start it with npm start`);
  process.exit(1);
}
const text = await res.text();
if (res.status !== 200) {
  console.error(`PUT credentials/apple answered ${res.status}: ${text}`);
  process.exit(1);
}
const summary = JSON.parse(text);
console.log(`Apple Wallet is set up for ${project}:
  pass type   ${summary.passTypeIdentifier} (team ${summary.teamIdentifier})
  certificate ${summary.subject}, valid until ${summary.notAfter}
  APNs        key ${summary.apns.keyId} -> ${summary.apns.host}
  test root   ${path.relative(root, path.join(certs, "root.pem"))} (for openssl cms -verify)

Next (README "Apple Wallet"): npm run apns:fake in another terminal, then download the demo pass:
  curl -s -u ${key}:${secret} -o member-1.pkpass ${base}/v1/pass/$(curl -s -u ${key}:${secret} ${base}/v1/pass/template/1/id/member-1 | jq .id)/pkpass`);
