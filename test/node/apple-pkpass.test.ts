/**
 * The .pkpass from outside: a fresh throwaway PKI made by scripts/apple-test-certs.mjs, a bundle built
 * by src/apple/pkpass.ts running on Node's WebCrypto, unzipped, every manifest hash recomputed with
 * node:crypto, the detached signature verified by `openssl cms -verify` against the test root (and
 * refused for a tampered manifest), and pass.json / personalization.json validated by an independent
 * parser: passkit-generator's Joi schemas (its `PassProps` and `Personalize`), plus Apple's required
 * keys, which those schemas leave optional.
 */
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { strFromU8, unzipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadAppleSrc, type AppleSrc, type Signer } from "./support/apple-src";
import { makeTestPki, openssl, tempDir } from "./support/openssl";
import { fromRoot } from "./support/repo";

interface JoiSchema {
  validate(value: unknown, options?: { abortEarly?: boolean }): { error?: { message: string } };
}
// passkit-generator exports only PKPass and PassType; its schemas are read from the package files.
const schemas = (await import(/* @vite-ignore */ fromRoot("node_modules/passkit-generator/lib/esm/schemas/index.js"))) as {
  PassProps: JoiSchema;
  Personalize: JoiSchema;
};

const NOW = Date.now();
const tmp = tempDir("pkpass");
const pki = (name: string) => readFileSync(path.join(tmp.dir, name), "utf8");
let src: AppleSrc;
let signer: Signer;
let identity: { passTypeIdentifier: string; teamIdentifier: string; organizationName: string };

const FIELDS = [
  { key: "name", label: "Name", type: "text", required: true },
  { key: "points", label: "Points", type: "number" },
  { key: "since", label: "Member since", type: "date" },
  { key: "site", label: "Website", type: "url" },
  { key: "code", label: "Code", type: "barcode" },
];
const VALUES = { name: "Ada", points: 120, since: "2024-05-01", site: "https://example.com/", code: "ABC-123" };

beforeAll(async () => {
  makeTestPki(tmp.dir);
  identity = JSON.parse(pki("identity.json"));
  src = await loadAppleSrc();
  signer = await src.loadSigner({ version: "node-1", certificatePem: pki("pass.pem"), wwdrCertificatePem: pki("wwdr.pem"), privateKeyPem: pki("pass.pkcs1.key") });
  writeFileSync(path.join(tmp.dir, "chain.pem"), pki("root.pem") + pki("wwdr.pem"));
});
afterAll(() => tmp.remove());

function passJson(passType: string, status = "active", design: Record<string, unknown> | null = null) {
  return src.buildPassJson({
    template: { name: "Coffee Club", passType, fields: FIELDS, design: design ? src.appleDesign.parse(design) : null },
    pass: { serialNumber: `ser-${passType}-${status}`, status, fields: VALUES, updatedAt: NOW - 60_000 },
    identity: { ...identity, organizationName: "Coffee Co" },
    webServiceURL: "https://passhook.test/apple",
    authenticationToken: "0123456789abcdef0123",
    now: NOW,
  });
}

/** Unzips a bundle and writes each file as `<name>-<file>` into the temp folder, for openssl. */
function unpack(bytes: Uint8Array, name: string): Record<string, Uint8Array> {
  const files = unzipSync(bytes);
  for (const [file, data] of Object.entries(files)) writeFileSync(path.join(tmp.dir, at(name, file)), data);
  return files;
}
const at = (name: string, file: string) => `${name}-${file}`;

describe("a .pkpass checked with independent tools", () => {
  it("has every manifest hash right and a signature openssl verifies against the test root", async () => {
    const design = {
      backgroundColor: "#112233",
      fields: { primary: ["name"], secondary: ["points"], back: ["site", "since"] },
      barcode: { field: "code", format: "qr" },
      changeMessages: { points: "You have %@ points" },
    };
    const icon = readFileSync(fromRoot("test/fixtures/apple/README.md")); // any bytes: the manifest does not care
    const { bytes, manifest } = await src.buildPkpass({ passJson: passJson("loyalty", "active", design), images: { "logo.png": icon }, signer, now: NOW });
    const files = unpack(bytes, "main");
    const listed = JSON.parse(strFromU8(files["manifest.json"])) as Record<string, string>;
    expect(listed).toEqual(manifest);
    expect(Object.keys(files).sort()).toEqual(["icon.png", "icon@2x.png", "icon@3x.png", "logo.png", "manifest.json", "pass.json", "signature"]);
    for (const [name, data] of Object.entries(files)) {
      if (name === "manifest.json" || name === "signature") continue;
      expect(listed[name], name).toBe(createHash("sha1").update(data).digest("hex"));
    }

    const verify = (content: string, caFile: string) =>
      openssl(["cms", "-verify", "-binary", "-inform", "DER", "-in", at("main", "signature"), "-content", content, "-CAfile", caFile, "-purpose", "any", "-out", "/dev/null"], tmp.dir);
    const good = verify(at("main", "manifest.json"), "chain.pem");
    expect(good.output).toContain("Verification successful");
    expect(good.ok).toBe(true);
    // The WWDR intermediate travels inside the signature: the root alone is enough to verify.
    writeFileSync(path.join(tmp.dir, "root-only.pem"), pki("root.pem"));
    expect(verify(at("main", "manifest.json"), "root-only.pem").ok).toBe(true);

    const tampered = Buffer.from(files["manifest.json"]);
    tampered[tampered.length - 3] ^= 1;
    writeFileSync(path.join(tmp.dir, "tampered-manifest.json"), tampered);
    const bad = verify("tampered-manifest.json", "chain.pem");
    expect(bad.ok).toBe(false);
    expect(bad.output).toMatch(/verify error|digest failure/i);
    // Another CA's root does not vouch for it.
    makeTestPki(path.join(tmp.dir, "other"));
    expect(verify(at("main", "manifest.json"), path.join("other", "root.pem")).ok).toBe(false);

    const printed = openssl(["cms", "-cmsout", "-print", "-inform", "DER", "-in", at("main", "signature")], tmp.dir).output;
    expect(printed).toContain("signingTime");
    expect(printed).toContain("sha256");
    expect(printed).toMatch(/eContent: <ABSENT>/);
    expect((printed.match(/cert_info:/g) ?? []).length).toBe(2);
  });

  it("signs a personalization token that openssl verifies over the token's bytes", async () => {
    const token = "c2lnbi11cC10b2tlbi1mcm9tLXdhbGxldA";
    writeFileSync(path.join(tmp.dir, "token"), token);
    writeFileSync(path.join(tmp.dir, "token.sig"), await src.signPersonalizationToken(token, signer, NOW));
    const r = openssl(["cms", "-verify", "-binary", "-inform", "DER", "-in", "token.sig", "-content", "token", "-CAfile", "chain.pem", "-purpose", "any", "-out", "/dev/null"], tmp.dir);
    expect(r.ok, r.output).toBe(true);
  });

  it("writes pass.json that passkit-generator's schema accepts for every style and status", async () => {
    const required = ["formatVersion", "passTypeIdentifier", "serialNumber", "teamIdentifier", "organizationName", "description"];
    const designs: Record<string, Record<string, unknown> | null> = {
      loyalty: { barcode: { field: "code", format: "pdf417", altTextField: "name" }, changeMessages: { points: "%@ points" }, sharingProhibited: true },
      storeCard: null,
      coupon: { fields: { primary: ["points"], auxiliary: ["since"] }, expirationField: "since" },
      eventTicket: { fields: { header: ["since"], primary: ["name"] }, groupingIdentifier: "event-1" },
      generic: { logoText: "Hi", labelColor: "rgb(1, 2, 3)" },
      boardingPass: { transitType: "PKTransitTypeTrain", fields: { primary: ["name", "points"] } },
    };
    for (const [passType, design] of Object.entries(designs)) {
      for (const status of ["active", "expired", "voided", "redeemed"]) {
        const json = passJson(passType, status, design);
        const r = schemas.PassProps.validate(json, { abortEarly: false });
        expect(r.error?.message, `${passType}/${status}`).toBeUndefined();
        for (const key of required) expect(json[key], `${passType}/${status} ${key}`).toBeDefined();
      }
    }
    // The schema is not vacuous: it refuses what Apple would.
    expect(schemas.PassProps.validate({ ...passJson("coupon"), barcodes: [{ format: "QR", message: "x" }] }).error).toBeDefined();
    expect(schemas.PassProps.validate({ ...passJson("coupon"), authenticationToken: "short" }).error).toBeDefined();
    expect(schemas.PassProps.validate({ ...passJson("coupon"), unknownKey: 1 }).error).toBeDefined();
  });

  it("carries personalization.json that passkit-generator's schema accepts, and drops it when asked", async () => {
    const personalization = { requiredFields: ["PKPassPersonalizationFieldName", "PKPassPersonalizationFieldEmailAddress"], description: "Join", termsAndConditions: "Terms" };
    const encryptionPublicKey = pki("apns.pub.pem").replace(/-----[^-]+-----|\s/g, "");
    const json = passJson("loyalty", "active", { nfc: { message: "member-0001", encryptionPublicKey }, personalization });
    expect(schemas.PassProps.validate(json).error?.message).toBeUndefined();
    const withIt = unzipSync((await src.buildPkpass({ passJson: json, images: {}, personalization, signer, now: NOW })).bytes);
    const pj = JSON.parse(strFromU8(withIt["personalization.json"]));
    expect(schemas.Personalize.validate(pj).error?.message).toBeUndefined();
    expect(pj.requiredPersonalizationFields).toEqual(personalization.requiredFields);
    const without = unzipSync((await src.buildPkpass({ passJson: json, images: {}, personalization: null, signer, now: NOW })).bytes);
    expect(without["personalization.json"]).toBeUndefined();
  });
});
