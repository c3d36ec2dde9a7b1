// `npm run apple:test-certs [-- <dir>] [--negatives] [--days N]`: a throwaway stand-in for Apple's PKI,
// made with openssl, for tests and local development. NOTHING here is trusted by a real iPhone.
//
// Writes into <dir> (default .dev-certs/apple/, git-ignored):
//   root.pem                 "Test Root CA" (stands in for the Apple Root CA)
//   wwdr.pem                 "Test Worldwide Developer Relations CA" (stands in for WWDR G4), issued by root
//   pass.pem                 Pass Type ID certificate issued by wwdr: subject UID = pass type id, OU = team id,
//                            EKU 1.2.840.113635.100.4.14 and extension 1.2.840.113635.100.6.1.16 like Apple's
//   pass.key                 its RSA-2048 key, PKCS#8 (what WebCrypto imports)
//   pass.pkcs1.key           the same key as PKCS#1 ("BEGIN RSA PRIVATE KEY")
//   pass.encrypted.key       the same key as encrypted PKCS#8 (PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC)
//   apns.p8, apns.pub.pem    an APNs token key (EC P-256, PKCS#8) and its public half
//   identity.json            the identifiers and passphrase used above
// With --negatives also: expired.pem (same key, valid 2020-2021), pass.legacy-encrypted.key ("Proc-Type:
// 4,ENCRYPTED"), other-root.pem / other-wwdr.pem / other-pass.pem / other-pass.key (a different CA and key),
// impostor-wwdr.pem (same name as wwdr.pem, different key) and impostor-pass.pem (issued by the impostor).
//
// The recipe is apple-wallet.md §3.5 (verified there with OpenSSL 3.0).
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

const IDENTITY = {
  passTypeIdentifier: "pass.example.passhook.demo",
  teamIdentifier: "ABCDE12345",
  organizationName: "Passhook Test Org",
  passphrase: "test-passphrase",
  apnsKeyId: "KEYID12345",
  apnsTeamId: "ABCDE12345",
};

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const option = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const positional = args.filter((a, i) => !a.startsWith("--") && !(i > 0 && args[i - 1] === "--days"));
const outDir = path.resolve(positional[0] ?? ".dev-certs/apple");
const days = String(Number(option("--days") ?? 7300));
const negatives = flag("--negatives");

mkdirSync(outDir, { recursive: true });
const work = path.join(outDir, ".work");
rmSync(work, { recursive: true, force: true });
mkdirSync(work);

const openssl = (...a) => execFileSync("openssl", a, { cwd: work, stdio: ["ignore", "pipe", "pipe"] });
const write = (name, text) => writeFileSync(path.join(work, name), text);

const CA_EXT = "basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n";
const WWDR_EXT = "basicConstraints=critical,CA:true,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n";
const passExt = (id) =>
  "[ext]\nbasicConstraints=critical,CA:false\nkeyUsage=critical,digitalSignature\n" +
  "extendedKeyUsage=1.2.840.113635.100.4.14,clientAuth\n" +
  `1.2.840.113635.100.6.1.16=ASN1:UTF8String:${id}\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n`;
const passSubject = (id, team) => `/UID=${id}/CN=Pass Type ID: ${id}/OU=${team}/O=${IDENTITY.organizationName}/C=US`;

function rootCa(name, cn) {
  write(`${name}.ext`, CA_EXT);
  openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.pem`, "-days", days,
    "-sha256", "-subj", `/C=US/O=Test Apple Stand-in/CN=${cn}`, "-addext", "basicConstraints=critical,CA:true",
    "-addext", "keyUsage=critical,keyCertSign,cRLSign");
}

function intermediate(name, subject, issuer) {
  write(`${name}.ext`, WWDR_EXT);
  openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subject);
  openssl("x509", "-req", "-in", `${name}.csr`, "-CA", `${issuer}.pem`, "-CAkey", `${issuer}.key`, "-CAcreateserial",
    "-out", `${name}.pem`, "-days", days, "-sha256", "-extfile", `${name}.ext`);
}

function leaf(name, keyFile, issuer, id = IDENTITY.passTypeIdentifier) {
  write(`${name}.ext`, passExt(id));
  openssl("req", "-new", "-key", keyFile, "-out", `${name}.csr`, "-subj", passSubject(id, IDENTITY.teamIdentifier));
  openssl("x509", "-req", "-in", `${name}.csr`, "-CA", `${issuer}.pem`, "-CAkey", `${issuer}.key`, "-CAcreateserial",
    "-out", `${name}.pem`, "-days", days, "-sha256", "-extfile", `${name}.ext`, "-extensions", "ext");
}

/** A leaf with fixed dates in the past: `openssl ca` is the 3.0 way to set both dates. */
function datedLeaf(name, keyFile, issuer, start, end) {
  write("ca.cnf", [
    "[ca]", "default_ca=ca_default", "[ca_default]", "database=index.txt", "new_certs_dir=.", "serial=ca.serial",
    "default_md=sha256", "policy=policy_any", "unique_subject=no", "copy_extensions=none",
    "[policy_any]", "commonName=supplied", "",
  ].join("\n"));
  write("index.txt", "");
  write("ca.serial", "1000\n");
  write(`${name}.ext`, passExt(IDENTITY.passTypeIdentifier));
  openssl("req", "-new", "-key", keyFile, "-out", `${name}.csr`, "-subj", passSubject(IDENTITY.passTypeIdentifier, IDENTITY.teamIdentifier));
  openssl("ca", "-batch", "-config", "ca.cnf", "-preserveDN", "-notext", "-in", `${name}.csr`, "-cert", `${issuer}.pem`,
    "-keyfile", `${issuer}.key`, "-startdate", start, "-enddate", end, "-extfile", `${name}.ext`, "-extensions", "ext",
    "-out", `${name}.pem`);
}

rootCa("root", "Test Root CA");
intermediate("wwdr", "/C=US/O=Test Apple Stand-in/OU=G4/CN=Test Worldwide Developer Relations CA", "root");
openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "pass.key");
leaf("pass", "pass.key", "wwdr");
openssl("rsa", "-in", "pass.key", "-traditional", "-out", "pass.pkcs1.key");
openssl("pkcs8", "-topk8", "-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA256", "-in", "pass.key",
  "-passout", `pass:${IDENTITY.passphrase}`, "-out", "pass.encrypted.key");
openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "apns.p8");
openssl("pkey", "-in", "apns.p8", "-pubout", "-out", "apns.pub.pem");

const keep = ["root.pem", "wwdr.pem", "pass.pem", "pass.key", "pass.pkcs1.key", "pass.encrypted.key", "apns.p8", "apns.pub.pem"];

if (negatives) {
  datedLeaf("expired", "pass.key", "wwdr", "20200101000000Z", "20210101000000Z");
  openssl("rsa", "-in", "pass.key", "-traditional", "-aes256", "-passout", `pass:${IDENTITY.passphrase}`,
    "-out", "pass.legacy-encrypted.key");
  rootCa("other-root", "Other Test Root CA");
  intermediate("other-wwdr", "/C=US/O=Other Stand-in/CN=Other Test Intermediate CA", "other-root");
  openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "other-pass.key");
  leaf("other-pass", "other-pass.key", "other-wwdr");
  // Same subject as wwdr.pem, different key: the issuer name matches, the signature cannot.
  intermediate("impostor-wwdr", "/C=US/O=Test Apple Stand-in/OU=G4/CN=Test Worldwide Developer Relations CA", "other-root");
  leaf("impostor-pass", "pass.key", "impostor-wwdr");
  keep.push("expired.pem", "pass.legacy-encrypted.key", "other-root.pem", "other-wwdr.pem", "other-pass.pem",
    "other-pass.key", "impostor-wwdr.pem", "impostor-pass.pem");
}

for (const name of keep) copyFileSync(path.join(work, name), path.join(outDir, name));
writeFileSync(path.join(outDir, "identity.json"), JSON.stringify(IDENTITY, null, 2) + "\n");
rmSync(work, { recursive: true, force: true });
console.log(`test PKI written to ${outDir}: ${readdirSync(outDir).sort().join(", ")}`);
