// `npm run google:callback -- --pass <passId> [--event save|del] [--url URL]`
// `npm run google:callback -- --object <objectId> --class <classId> [--event save|del] [--url URL]`
// Builds a Google Wallet save/delete callback signed like Google's (ECv2SigningOnly: the fake's
// root key from `npm run google:account` signs a fresh intermediate key, which signs the message
// for recipient = the issuer id) and POSTs it to --url, or prints it when no --url is given.
// --pass names a passhook pass: its object id is `{issuerId}.{projectId}.p{passId}` (issuer from
// .dev-certs/google/credentials.json; --project, default prj_demo; --template, default 1).
// Options: --issuer <id> (default: the object id's prefix), --nonce <n> (repeat one to see a
// replay), --sender <id> (default GooglePayPasses), --expired (an already expired message).
import { randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { importPrivateB64, newIntermediate, signedCallbackBody } from "./lib/google-chain.ts";

const { values: args } = parseArgs({
  options: {
    object: { type: "string" },
    class: { type: "string" },
    pass: { type: "string" },
    project: { type: "string", default: "prj_demo" },
    template: { type: "string", default: "1" },
    event: { type: "string", default: "save" },
    url: { type: "string" },
    issuer: { type: "string" },
    nonce: { type: "string" },
    sender: { type: "string", default: "GooglePayPasses" },
    expired: { type: "boolean", default: false },
  },
});

const usage =
  "usage: npm run google:callback -- (--pass <passId> | --object <objectId> --class <classId>) [--event save|del] [--url http://127.0.0.1:8787/google/callback]";
const certs = process.env.GOOGLE_DEV_CERTS_DIR ?? path.resolve(import.meta.dirname, "..", ".dev-certs", "google");
if (args.pass) {
  const credsFile = path.join(certs, "credentials.json");
  if (!/^[1-9][0-9]*$/.test(args.pass) || !/^[1-9][0-9]*$/.test(args.template)) {
    console.error(usage);
    process.exit(2);
  }
  const issuerId = args.issuer ?? (existsSync(credsFile) ? JSON.parse(readFileSync(credsFile, "utf8")).issuerId : undefined);
  if (!issuerId) {
    console.error("missing .dev-certs/google/credentials.json: run `npm run google:account` first, or pass --issuer");
    process.exit(1);
  }
  args.object ??= `${issuerId}.${args.project}.p${args.pass}`;
  args.class ??= `${issuerId}.${args.project}.t${args.template}`;
}
if (!args.object || !args.class || !["save", "del"].includes(args.event)) {
  console.error(usage);
  process.exit(2);
}
const rootFile = path.join(certs, "callback-root.json");
if (!existsSync(rootFile)) {
  console.error("missing .dev-certs/google/callback-root.json: run `npm run google:account` first");
  process.exit(1);
}
const issuer = args.issuer ?? /^(\d+)\./.exec(args.object)?.[1];
if (!issuer) {
  console.error("cannot tell the issuer id from the object id; pass --issuer");
  process.exit(2);
}

const rootKey = await importPrivateB64(JSON.parse(readFileSync(rootFile, "utf8")).privateKeyPkcs8B64);
const now = Date.now();
const intermediate = await newIntermediate(rootKey, { senderId: args.sender, keyExpirationMs: now + 7 * 24 * 3600 * 1000 });
const body = await signedCallbackBody({
  intermediate,
  senderId: args.sender,
  recipientId: issuer,
  message: {
    classId: args.class,
    objectId: args.object,
    eventType: args.event,
    expTimeMillis: args.expired ? now - 1000 : now + 5 * 60 * 1000,
    nonce: args.nonce ?? randomUUID(),
  },
});

if (!args.url) {
  console.log(body);
} else {
  const res = await fetch(args.url, { method: "POST", headers: { "content-type": "application/json" }, body });
  console.log(`POST ${args.url} -> ${res.status}`);
  const text = await res.text();
  if (text) console.log(text);
  process.exit(res.ok ? 0 : 1);
}
