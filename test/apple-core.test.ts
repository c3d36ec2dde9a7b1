/**
 * The pure Apple core inside workerd: the template design schema (good and hostile input), pass.json
 * per style and status, the .pkpass bundle (unzipped with fflate, every manifest hash recomputed, the
 * CMS structure read back and verified against the test root), and credential validation with one
 * case per failure reason, all from the committed test PKI (test/fixtures/apple). openssl checks the
 * same signatures from outside in test/node/apple-pkpass.test.ts.
 */
import { unzipSync, strFromU8 } from "fflate";
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { describe, expect, it } from "vitest";
import {
  appleCredentialsBody,
  appleDesign,
  buildPassJson,
  buildPkpass,
  checkDesignForTemplate,
  decodeDesignImages,
  defaultIconImages,
  loadSigner,
  missingPersonalization,
  personalizeBody,
  signPersonalizationToken,
  splitDesignImages,
  validateAppleCredentials,
  type AppleDesignCore,
  type CertificateFailureReason,
  type PassJsonInput,
} from "../src/apple";
import { pngSize } from "../src/apple/design";
import type { FieldDef } from "../src/db/schema";
import { fromBase64, toBase64 } from "../src/lib/crypto";
import { fixture, goodCredentials, identity } from "./support/apple-fixtures";

const NOW = Date.parse("2027-03-01T12:00:00Z");
const TOKEN = "a".repeat(32);
const ICON = defaultIconImages()["icon.png"];
const ICON_B64 = toBase64(ICON);
/** A P-256 SubjectPublicKeyInfo (the APNs test key's public half) as nfc.encryptionPublicKey. */
const NFC_KEY = fixture("apns.pub.pem").replace(/-----[^-]+-----|\s/g, "");

const FIELDS: FieldDef[] = [
  { key: "name", label: "Name", type: "text", required: true },
  { key: "points", label: "Points", type: "number" },
  { key: "tier", label: "Tier", type: "text" },
  { key: "since", label: "Member since", type: "date" },
  { key: "site", label: "Website", type: "url" },
  { key: "code", label: "Code", type: "barcode" },
];

function input(over: Partial<PassJsonInput["pass"]> = {}, design: AppleDesignCore | null = null, passType: PassJsonInput["template"]["passType"] = "loyalty"): PassJsonInput {
  return {
    template: { name: "Coffee Club", passType, fields: FIELDS, design },
    pass: {
      serialNumber: "ser-1",
      status: "active",
      fields: { name: "Ada", points: 120, tier: "gold", since: "2024-05-01", site: "https://example.com/", code: "ABC-123" },
      updatedAt: Date.parse("2027-02-01T08:30:00Z"),
      ...over,
    },
    identity: { passTypeIdentifier: identity.passTypeIdentifier, teamIdentifier: identity.teamIdentifier, organizationName: "Coffee Co" },
    webServiceURL: "https://passhook.test/apple",
    authenticationToken: TOKEN,
    now: NOW,
  };
}

const parseDesign = (raw: unknown) => appleDesign.safeParse(raw);
const issuePaths = (r: ReturnType<typeof parseDesign>) => (r.success ? [] : r.error.issues.map((i) => i.path.join(".")));

describe("apple design schema", () => {
  it("normalises colours to rgb(r, g, b) and keeps a full design", () => {
    const r = parseDesign({
      backgroundColor: "#FF8800",
      foregroundColor: "rgb(1,2,3)",
      labelColor: " rgb( 10 , 20 , 30 ) ",
      logoText: "Coffee",
      description: "Loyalty card",
      fields: { primary: ["name"], secondary: ["points", "tier"], back: ["site"] },
      barcode: { field: "code", format: "pdf417" },
      changeMessages: { points: "You now have %@ points" },
      images: { "icon.png": ICON_B64, "logo@2x.png": ICON_B64 },
      personalization: { requiredFields: ["PKPassPersonalizationFieldName", "PKPassPersonalizationFieldEmailAddress"], description: "Join" },
    });
    expect(r.success).toBe(true);
    if (!r.success) return;
    expect(r.data.backgroundColor).toBe("rgb(255, 136, 0)");
    expect(r.data.foregroundColor).toBe("rgb(1, 2, 3)");
    expect(r.data.labelColor).toBe("rgb(10, 20, 30)");
    expect(r.data.barcode).toEqual({ field: "code", format: "pdf417", messageEncoding: "iso-8859-1" });
    const { core, images } = splitDesignImages(r.data);
    expect(Object.keys(images)).toEqual(["icon.png", "logo@2x.png"]);
    expect("images" in core).toBe(false);
    expect(decodeDesignImages(images)["icon.png"]).toEqual(ICON);
  });

  it("refuses bad colours, texts, barcodes and personalization with paths", () => {
    for (const c of ["#fff", "#GGGGGG", "rgb(256, 0, 0)", "red", "rgb(1,2)", 7]) {
      expect(issuePaths(parseDesign({ backgroundColor: c })), String(c)).toEqual(["backgroundColor"]);
    }
    expect(issuePaths(parseDesign({ logoText: "   " }))).toEqual(["logoText"]);
    expect(issuePaths(parseDesign({ barcode: { field: "code", format: "qr", messageEncoding: "utf-16" } }))).toEqual(["barcode.messageEncoding"]);
    expect(issuePaths(parseDesign({ barcode: { field: "code", format: "ean13" } }))).toEqual(["barcode.format"]);
    expect(issuePaths(parseDesign({ personalization: { requiredFields: [], description: "x" } }))).toEqual(["personalization.requiredFields"]);
    expect(issuePaths(parseDesign({ personalization: { requiredFields: ["fullName"], description: "x" } }))).toEqual(["personalization.requiredFields.0"]);
    expect(issuePaths(parseDesign({ personalization: { requiredFields: ["PKPassPersonalizationFieldName", "PKPassPersonalizationFieldName"], description: "x" } }))).toEqual([
      "personalization.requiredFields",
    ]);
    expect(issuePaths(parseDesign({ nfc: { message: "x".repeat(65), encryptionPublicKey: NFC_KEY } }))).toEqual(["nfc.message"]);
    expect(issuePaths(parseDesign({ nfc: { message: "m" } }))).toEqual(["nfc.encryptionPublicKey"]);
    expect(issuePaths(parseDesign({ nfc: { message: "m", encryptionPublicKey: ICON_B64 } }))).toEqual(["nfc.encryptionPublicKey"]);
    expect(issuePaths(parseDesign({ unknownKey: 1 }))).toEqual([""]);
  });

  it("requires %@ in change messages and template-like keys", () => {
    expect(issuePaths(parseDesign({ changeMessages: { points: "Points changed" } }))).toEqual(["changeMessages.points"]);
    expect(issuePaths(parseDesign({ changeMessages: { Points: "%@" } }))).toEqual(["changeMessages.Points"]);
    expect(issuePaths(parseDesign({ changeMessages: { points: "" } }))).toEqual(["changeMessages.points"]);
    expect(issuePaths(parseDesign({ changeMessages: { points: 5 } }))).toEqual(["changeMessages.points"]);
  });

  it("rejects __proto__ and constructor keys without touching any prototype", () => {
    const hostile = [
      '{"__proto__": {"polluted": 1}}',
      '{"changeMessages": {"__proto__": "x %@"}}',
      '{"changeMessages": {"constructor": "x %@"}}',
      '{"images": {"__proto__": "iVBORw0KGgo="}}',
      '{"fields": {"primary": ["constructor"]}}',
      '{"fields": {"__proto__": ["name"]}}',
      '{"barcode": {"field": "__proto__", "format": "qr"}}',
    ];
    for (const text of hostile) {
      const r = parseDesign(JSON.parse(text));
      expect(r.success, text).toBe(false);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const ok = parseDesign(JSON.parse('{"changeMessages": {"points": "%@ points"}}'));
    expect(ok.success && Object.getPrototypeOf(ok.data.changeMessages)).toBe(Object.prototype);
  });

  it("checks images: Apple names only, base64 PNG, capped size", () => {
    expect(issuePaths(parseDesign({ images: { "icon.jpg": ICON_B64 } }))).toEqual(["images.icon.jpg"]);
    expect(issuePaths(parseDesign({ images: { "icon@4x.png": ICON_B64 } }))).toEqual(["images.icon@4x.png"]);
    expect(issuePaths(parseDesign({ images: { "../icon.png": ICON_B64 } }))).toEqual(["images.../icon.png"]);
    expect(issuePaths(parseDesign({ images: { "icon.png": "not base64!" } }))).toEqual(["images.icon.png"]);
    expect(issuePaths(parseDesign({ images: { "icon.png": btoa("GIF89a not a png at all, padding padding") } }))).toEqual(["images.icon.png"]);
    const big = new Uint8Array(200 * 1024);
    big.set(ICON.subarray(0, 33));
    expect(issuePaths(parseDesign({ images: { "strip.png": toBase64(big) } }))).toEqual(["images.strip.png"]);
    expect(issuePaths(parseDesign({ images: [] }))).toEqual(["images"]);
    expect(pngSize(ICON)).toEqual({ width: 29, height: 29 });
  });

  it("checks a design against its template: unknown keys, per-style limits, images, personalization", () => {
    const check = (raw: unknown, passType: PassJsonInput["template"]["passType"] = "generic") => {
      const r = parseDesign(raw);
      if (!r.success) throw new Error(JSON.stringify(r.error.issues));
      return checkDesignForTemplate(r.data, { passType, fields: FIELDS }).map((i) => i.path);
    };
    expect(check({ fields: { primary: ["nope"], back: ["name", "ghost"] } })).toEqual(["apple.fields.primary.0", "apple.fields.back.1"]);
    expect(check({ barcode: { field: "nope", format: "qr", altTextField: "gone" } })).toEqual(["apple.barcode.field", "apple.barcode.altTextField"]);
    expect(check({ changeMessages: { missing: "%@" } })).toEqual(["apple.changeMessages.missing"]);
    expect(check({ fields: { primary: ["name", "tier"] } })).toEqual(["apple.fields.primary"]);
    expect(check({ fields: { primary: ["name", "tier"] } }, "boardingPass")).toEqual([]);
    expect(check({ fields: { auxiliary: ["name", "tier", "points", "since", "site"] } }, "boardingPass")).toEqual([]);
    expect(check({ fields: { auxiliary: ["name", "tier", "points", "since", "site"] } }, "eventTicket")).toEqual(["apple.fields.auxiliary"]);
    const rows = { fields: { secondary: ["name", "tier", "points"], auxiliary: ["since", "site"] } };
    expect(check({ ...rows, barcode: { field: "code", format: "qr" } }, "coupon")).toEqual(["apple.fields"]);
    expect(check({ ...rows, barcode: { field: "code", format: "pdf417" } }, "coupon")).toEqual([]);
    expect(check({ ...rows, barcode: { field: "code", format: "aztec" } }, "eventTicket")).toEqual([]);
    expect(check({ expirationField: "tier" })).toEqual(["apple.expirationField"]);
    expect(check({ expirationField: "since" })).toEqual([]);
    expect(check({ transitType: "PKTransitTypeAir" })).toEqual(["apple.transitType"]);
    expect(check({ groupingIdentifier: "g" })).toEqual(["apple.groupingIdentifier"]);
    expect(check({ groupingIdentifier: "g" }, "eventTicket")).toEqual([]);
    expect(check({ images: { "strip.png": ICON_B64, "thumbnail.png": ICON_B64 } })).toEqual(["apple.images.strip.png"]);
    expect(check({ images: { "strip.png": ICON_B64, "thumbnail@2x.png": ICON_B64 } }, "eventTicket")).toEqual(["apple.images.thumbnail@2x.png"]);
    expect(check({ images: { "personalizationLogo@2x.png": ICON_B64 } }, "loyalty")).toEqual(["apple.images.personalizationLogo@2x.png"]);
    const p = { personalization: { requiredFields: ["PKPassPersonalizationFieldName"], description: "Join" } };
    expect(check(p, "coupon")).toEqual(["apple.personalization", "apple.personalization"]);
    expect(check(p, "loyalty")).toEqual(["apple.personalization"]);
    expect(check({ ...p, nfc: { message: "member-1", encryptionPublicKey: NFC_KEY }, images: { "personalizationLogo@2x.png": ICON_B64 } }, "storeCard")).toEqual([]);
  });

  it("refuses a field placed twice", () => {
    expect(issuePaths(parseDesign({ fields: { primary: ["name"], back: ["points", "name"] } }))).toEqual(["fields.back.1"]);
  });
});

describe("pass.json", () => {
  it("picks the style from the pass type; boarding passes get a transit type", () => {
    const styles = { loyalty: "storeCard", storeCard: "storeCard", coupon: "coupon", eventTicket: "eventTicket", generic: "generic", boardingPass: "boardingPass" } as const;
    const all = ["storeCard", "coupon", "eventTicket", "generic", "boardingPass"];
    for (const [passType, style] of Object.entries(styles)) {
      const json = buildPassJson(input({}, null, passType as keyof typeof styles));
      expect(all.filter((s) => s in json), passType).toEqual([style]);
      expect((json[style] as Record<string, unknown>).transitType).toBe(style === "boardingPass" ? "PKTransitTypeGeneric" : undefined);
    }
    const air = buildPassJson(input({}, { transitType: "PKTransitTypeAir" }, "boardingPass"));
    expect((air.boardingPass as Record<string, unknown>).transitType).toBe("PKTransitTypeAir");
  });

  it("has Apple's required keys, the web service pair, and the design's texts and colours", () => {
    const json = buildPassJson(input({}, { organizationName: "Brand", description: "Coffee card", logoText: "Coffee", backgroundColor: "rgb(1, 2, 3)" }));
    expect(json).toMatchObject({
      formatVersion: 1,
      passTypeIdentifier: identity.passTypeIdentifier,
      serialNumber: "ser-1",
      teamIdentifier: identity.teamIdentifier,
      organizationName: "Brand",
      description: "Coffee card",
      logoText: "Coffee",
      backgroundColor: "rgb(1, 2, 3)",
      webServiceURL: "https://passhook.test/apple",
      authenticationToken: TOKEN,
    });
    const plain = buildPassJson(input());
    expect(plain.organizationName).toBe("Coffee Co");
    expect(plain.description).toBe("Coffee Club");
    expect(Object.keys(plain).slice(0, 6)).toEqual(["formatVersion", "passTypeIdentifier", "serialNumber", "teamIdentifier", "organizationName", "description"]);
    expect(() => buildPassJson({ ...input(), authenticationToken: "short" })).toThrow(/16/);
  });

  it("places fields by default: first required text primary, then secondary/auxiliary, the rest on the back", () => {
    const card = buildPassJson(input()).storeCard as Record<string, { key: string }[]>;
    expect(card.primaryFields.map((f) => f.key)).toEqual(["name"]);
    // A square default QR code shares 4 rows on a store card.
    expect([...card.secondaryFields, ...(card.auxiliaryFields ?? [])].map((f) => f.key)).toEqual(["points", "tier", "since", "site"]);
    expect(card.backFields).toBeUndefined();
    const ticket = buildPassJson(input({}, null, "eventTicket")).eventTicket as Record<string, { key: string }[]>;
    expect(ticket.secondaryFields.map((f) => f.key)).toEqual(["points", "tier", "since", "site"]);
  });

  it("types values: numbers as numbers, dates with a zone and style, links tappable on the back", () => {
    const json = buildPassJson(
      input({ fields: { name: "Ada", points: 120, since: "2024-05-01", tier: "2027-01-02T03:04:05.678Z" } }, { fields: { primary: ["name"], secondary: ["points", "since"], back: ["site", "tier"] } }),
    );
    const card = json.storeCard as Record<string, Record<string, unknown>[]>;
    expect(card.secondaryFields[0]).toEqual({ key: "points", label: "Points", value: 120 });
    expect(card.secondaryFields[1]).toEqual({
      key: "since",
      label: "Member since",
      value: "2024-05-01T00:00:00Z",
      dateStyle: "PKDateStyleMedium",
      timeStyle: "PKDateStyleNone",
      ignoresTimeZone: true,
    });
    // "site" has no value in this pass: left out; "tier" is text, so it stays a string.
    expect(card.backFields).toEqual([{ key: "tier", label: "Tier", value: "2027-01-02T03:04:05.678Z" }]);
    const withSite = buildPassJson(input({}, { fields: { back: ["site"] } })).storeCard as Record<string, Record<string, unknown>[]>;
    expect(withSite.backFields[0]).toEqual({ key: "site", label: "Website", value: "https://example.com/", dataDetectorTypes: ["PKDataDetectorTypeLink"] });
    const datetime: FieldDef[] = [{ key: "at", label: "At", type: "date" }];
    const ev = buildPassJson({ ...input({ fields: { at: "2027-05-06T07:08:09.000Z" } }, { fields: { primary: ["at"] } }), template: { name: "E", passType: "eventTicket", fields: datetime, design: { fields: { primary: ["at"] } } } });
    expect((ev.eventTicket as Record<string, Record<string, unknown>[]>).primaryFields[0]).toMatchObject({ value: "2027-05-06T07:08:09Z", dateStyle: "PKDateStyleMedium", timeStyle: "PKDateStyleShort" });
  });

  it("puts change messages on their fields so a change shows on the lock screen", () => {
    const json = buildPassJson(input({}, { fields: { primary: ["points"], secondary: ["tier"] }, changeMessages: { points: "You have %@ points" } }));
    const card = json.storeCard as Record<string, Record<string, unknown>[]>;
    expect(card.primaryFields[0].changeMessage).toBe("You have %@ points");
    expect(card.secondaryFields[0].changeMessage).toBeUndefined();
  });

  it("maps one field to the barcode with format, encoding and alt text", () => {
    const json = buildPassJson(input({}, { barcode: { field: "code", format: "pdf417", messageEncoding: "utf-8", altTextField: "name" } }));
    expect(json.barcodes).toEqual([{ format: "PKBarcodeFormatPDF417", message: "ABC-123", messageEncoding: "utf-8", altText: "Ada" }]);
    expect(buildPassJson(input()).barcodes).toEqual([{ format: "PKBarcodeFormatQR", message: "ABC-123", messageEncoding: "iso-8859-1" }]);
    expect(buildPassJson(input({ fields: { name: "Ada" } })).barcodes).toBeUndefined();
  });

  it("voids voided and redeemed passes and dates expired ones in the past", () => {
    expect(buildPassJson(input({ status: "voided" })).voided).toBe(true);
    expect(buildPassJson(input({ status: "redeemed" })).voided).toBe(true);
    expect(buildPassJson(input({ status: "active" })).voided).toBeUndefined();
    const expired = buildPassJson(input({ status: "expired" }));
    expect(expired.voided).toBeUndefined();
    expect(expired.expirationDate).toBe("2027-02-01T08:29:59Z");
    expect(Date.parse(expired.expirationDate as string)).toBeLessThan(NOW);
    // An updatedAt ahead of the clock still gives a date in the past.
    const skewed = buildPassJson(input({ status: "expired", updatedAt: NOW + 60_000 }));
    expect(Date.parse(skewed.expirationDate as string)).toBeLessThan(NOW);
    expect(buildPassJson(input({}, { expirationField: "since" })).expirationDate).toBe("2024-05-01T00:00:00Z");
    expect(buildPassJson(input({}, { sharingProhibited: true })).sharingProhibited).toBe(true);
  });

  it("gives the same bytes for the same pass whatever the clock says", () => {
    const a = JSON.stringify(buildPassJson(input({ status: "expired" })));
    const b = JSON.stringify(buildPassJson({ ...input({ status: "expired" }), now: NOW + 86_400_000 }));
    expect(a).toBe(b);
  });
});

// --- the bundle -------------------------------------------------------------------------------------

const material = (version: string) => ({ version, certificatePem: fixture("pass.pem"), wwdrCertificatePem: fixture("wwdr.pem"), privateKeyPem: fixture("pass.key") });

async function sha1Hex(bytes: Uint8Array): Promise<string> {
  return [...new Uint8Array(await crypto.subtle.digest("SHA-1", Uint8Array.from(bytes)))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function readSignedData(der: Uint8Array) {
  const info = pkijs.ContentInfo.fromBER(Uint8Array.from(der));
  expect(info.contentType).toBe("1.2.840.113549.1.7.2");
  return new pkijs.SignedData({ schema: info.content });
}

async function verifyDetached(der: Uint8Array, content: Uint8Array, at: number) {
  const signed = readSignedData(der);
  const root = pkijs.Certificate.fromBER(Uint8Array.from(atob(fixture("root.pem").replace(/-----[^-]+-----|\s/g, "")), (c) => c.charCodeAt(0)));
  // pkijs throws SignedDataVerifyError for a digest that does not match: that is a "no".
  return signed
    .verify({ signer: 0, data: Uint8Array.from(content).buffer, trustedCerts: [root], checkChain: true, checkDate: new Date(at) })
    .catch((e: Error) => (e.name === "SignedDataVerifyError" ? false : Promise.reject(e)));
}

describe(".pkpass", () => {
  it("zips pass.json, images, manifest and a detached CMS signature whose hashes all match", async () => {
    const signer = await loadSigner(material("v-bundle"));
    const passJson = buildPassJson(input());
    const logo = defaultIconImages()["icon@2x.png"];
    const { bytes, manifest } = await buildPkpass({ passJson, images: { "logo.png": logo }, signer, now: NOW });
    const files = unzipSync(bytes);
    expect(Object.keys(files).sort()).toEqual(["icon.png", "icon@2x.png", "icon@3x.png", "logo.png", "manifest.json", "pass.json", "signature"]);
    expect(JSON.parse(strFromU8(files["pass.json"]))).toEqual(passJson);
    const listed = JSON.parse(strFromU8(files["manifest.json"])) as Record<string, string>;
    expect(listed).toEqual(manifest);
    expect(Object.keys(listed).sort()).toEqual(Object.keys(files).filter((n) => n !== "manifest.json" && n !== "signature").sort());
    for (const [name, hash] of Object.entries(listed)) expect(hash, name).toBe(await sha1Hex(files[name]));
    expect(files["logo.png"]).toEqual(logo);

    const signed = readSignedData(files.signature);
    expect(signed.encapContentInfo.eContent).toBeUndefined();
    expect(signed.encapContentInfo.eContentType).toBe("1.2.840.113549.1.7.1");
    expect(signed.certificates).toHaveLength(2);
    const info = signed.signerInfos[0];
    expect(info.digestAlgorithm.algorithmId).toBe("2.16.840.1.101.3.4.2.1");
    const attrs = new Map(info.signedAttrs!.attributes.map((a) => [a.type, a.values[0]]));
    expect([...attrs.keys()]).toEqual(["1.2.840.113549.1.9.3", "1.2.840.113549.1.9.5", "1.2.840.113549.1.9.4"]);
    expect((attrs.get("1.2.840.113549.1.9.5") as asn1js.UTCTime).toDate().getTime()).toBe(NOW);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", Uint8Array.from(files["manifest.json"])));
    expect(new Uint8Array((attrs.get("1.2.840.113549.1.9.4") as asn1js.OctetString).valueBlock.valueHexView)).toEqual(digest);
    expect(await verifyDetached(files.signature, files["manifest.json"], NOW)).toBe(true);
    const tampered = Uint8Array.from(files["manifest.json"]);
    tampered[5] ^= 1;
    await expect(verifyDetached(files.signature, tampered, NOW)).resolves.toBe(false);
  });

  it("uses the design's icon when there is one, and carries personalization only when asked", async () => {
    const signer = await loadSigner(material("v-bundle"));
    const personalization = { requiredFields: ["PKPassPersonalizationFieldName" as const], description: "Join the club", termsAndConditions: "<a href='https://x.test'>Terms</a>" };
    const images = { "icon.png": defaultIconImages()["icon@3x.png"], "personalizationLogo@2x.png": ICON };
    const withP = unzipSync((await buildPkpass({ passJson: buildPassJson(input()), images, personalization, signer, now: NOW })).bytes);
    expect(Object.keys(withP).sort()).toEqual(["icon.png", "manifest.json", "pass.json", "personalization.json", "personalizationLogo@2x.png", "signature"]);
    expect(withP["icon.png"]).toEqual(images["icon.png"]);
    expect(JSON.parse(strFromU8(withP["personalization.json"]))).toEqual({
      requiredPersonalizationFields: ["PKPassPersonalizationFieldName"],
      description: "Join the club",
      termsAndConditions: "<a href='https://x.test'>Terms</a>",
    });
    const without = unzipSync((await buildPkpass({ passJson: buildPassJson(input()), images, personalization: null, signer, now: NOW })).bytes);
    expect(Object.keys(without).sort()).toEqual(["icon.png", "manifest.json", "pass.json", "signature"]);
    await expect(buildPkpass({ passJson: {}, images: { "evil/../x.png": ICON }, signer, now: NOW })).rejects.toThrow(/image name/);
  });

  it("signs a personalization token over its UTF-8 bytes", async () => {
    const signer = await loadSigner(material("v-bundle"));
    const token = "tok-ünïcode-123";
    const sig = await signPersonalizationToken(token, signer, NOW);
    expect(await verifyDetached(sig, new TextEncoder().encode(token), NOW)).toBe(true);
    expect(await verifyDetached(sig, new TextEncoder().encode("other"), NOW)).toBe(false);
  });

  it("reads Wallet's personalize body as untrusted data and says what is missing", () => {
    const body = personalizeBody.parse(
      JSON.parse('{"personalizationToken":"t0k","requiredPersonalizationInfo":{"givenName":"Ada","familyName":"Lovelace","emailAddress":"ada@example.com","__proto__":{"x":1},"extra":"dropped"}}'),
    );
    expect(body).toEqual({ personalizationToken: "t0k", requiredPersonalizationInfo: { givenName: "Ada", familyName: "Lovelace", emailAddress: "ada@example.com" } });
    const all = ["PKPassPersonalizationFieldName", "PKPassPersonalizationFieldEmailAddress", "PKPassPersonalizationFieldPostalCode", "PKPassPersonalizationFieldPhoneNumber"] as const;
    expect(missingPersonalization(body.requiredPersonalizationInfo, all)).toEqual(["PKPassPersonalizationFieldPostalCode", "PKPassPersonalizationFieldPhoneNumber"]);
    expect(missingPersonalization({ givenName: "Ada" }, ["PKPassPersonalizationFieldName"])).toEqual(["PKPassPersonalizationFieldName"]);
    expect(personalizeBody.safeParse({ personalizationToken: "", requiredPersonalizationInfo: {} }).success).toBe(false);
    expect(personalizeBody.safeParse({ personalizationToken: "t", requiredPersonalizationInfo: { fullName: 5 } }).success).toBe(false);
    expect(personalizeBody.safeParse({ personalizationToken: "t", requiredPersonalizationInfo: { fullName: "x".repeat(300) } }).success).toBe(false);
    expect(personalizeBody.parse({ personalizationToken: "t" }).requiredPersonalizationInfo).toEqual({});
  });

  it("parses and imports a signer once per credential version", async () => {
    const a = loadSigner(material("v-cache-1"));
    const b = loadSigner(material("v-cache-1"));
    expect(b).toBe(a);
    expect(await b).toBe(await a);
    const c = await loadSigner(material("v-cache-2"));
    expect(c).not.toBe(await a);
    expect(c.key.extractable).toBe(false);
    const broken = { ...material("v-broken"), privateKeyPem: "nope" };
    await expect(loadSigner(broken)).rejects.toThrow();
    // A failed load is not cached: the fixed material under the same version loads.
    await expect(loadSigner({ ...material("v-broken") })).resolves.toHaveProperty("version", "v-broken");
  });
});

// --- credential validation ----------------------------------------------------------------------------

describe("Apple credential validation", () => {
  const validate = (over: Record<string, unknown> = {}, now = NOW, allowCustomApnsHost = false) =>
    validateAppleCredentials(appleCredentialsBody.parse({ ...goodCredentials(), ...over }), { now, allowCustomApnsHost });

  async function failure(over: Record<string, unknown>, now = NOW) {
    const r = await validate(over, now);
    if (r.ok) throw new Error("expected a failure");
    return r.error;
  }

  it("accepts PKCS#8, PKCS#1 and encrypted PKCS#8 keys alike and returns a summary without key material", async () => {
    const results = await Promise.all([
      validate(),
      validate({ privateKeyPem: fixture("pass.pkcs1.key") }),
      validate({ privateKeyPem: fixture("pass.encrypted.key"), privateKeyPassphrase: identity.passphrase }),
    ]);
    for (const r of results) {
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      expect(r.value.secret.privateKeyPem).toBe(fixture("pass.key"));
      expect(r.value.summary).toMatchObject({
        passTypeIdentifier: identity.passTypeIdentifier,
        teamIdentifier: identity.teamIdentifier,
        subject: `UID=${identity.passTypeIdentifier}, CN=Pass Type ID: ${identity.passTypeIdentifier}, OU=${identity.teamIdentifier}, O=${identity.organizationName}, C=US`,
        issuer: "C=US, O=Test Apple Stand-in, OU=G4, CN=Test Worldwide Developer Relations CA",
        apns: null,
      });
      expect(r.value.summary.serialNumber).toMatch(/^[0-9a-f]+$/);
      expect(Date.parse(r.value.summary.notAfter)).toBeGreaterThan(Date.parse(r.value.summary.notBefore));
      const text = JSON.stringify(r.value.summary);
      expect(text).not.toMatch(/PRIVATE|BEGIN|MII/);
    }
  });

  it("names the failing check and input for every reason", async () => {
    const cases: [Record<string, unknown>, CertificateFailureReason, string, number?][] = [
      [{ certificatePem: "hello" }, "certificate_unreadable", "certificatePem"],
      [{ certificatePem: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----" }, "certificate_unreadable", "certificatePem"],
      [{ wwdrCertificatePem: fixture("pass.key") }, "wwdr_unreadable", "wwdrCertificatePem"],
      [{ privateKeyPem: fixture("pass.pem") }, "key_unreadable", "privateKeyPem"],
      [{ privateKeyPem: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----" }, "key_unreadable", "privateKeyPem"],
      [{ privateKeyPem: fixture("pass.legacy-encrypted.key"), privateKeyPassphrase: identity.passphrase }, "legacy_encrypted_key", "privateKeyPem"],
      [{ privateKeyPem: fixture("pass.encrypted.key") }, "passphrase_required", "privateKeyPassphrase"],
      [{ privateKeyPem: fixture("pass.encrypted.key"), privateKeyPassphrase: "wrong" }, "passphrase_wrong", "privateKeyPassphrase"],
      [{ privateKeyPem: fixture("apns.p8") }, "unsupported_key", "privateKeyPem"],
      [{ certificatePem: fixture("wwdr.pem") }, "not_a_pass_certificate", "certificatePem"],
      [{ passTypeIdentifier: "pass.example.other" }, "identifier_mismatch", "passTypeIdentifier"],
      [{ teamIdentifier: "ZZZZZ99999" }, "identifier_mismatch", "teamIdentifier"],
      [{ privateKeyPem: fixture("other-pass.key") }, "key_mismatch", "privateKeyPem"],
      [{ certificatePem: fixture("expired.pem") }, "certificate_expired", "certificatePem"],
      [{}, "certificate_expired", "certificatePem", Date.parse("2100-01-01T00:00:00Z")],
      [{}, "certificate_not_yet_valid", "certificatePem", Date.parse("2020-06-01T00:00:00Z")],
      [{ wwdrCertificatePem: fixture("expired.pem") }, "wwdr_expired", "wwdrCertificatePem"],
      [{ certificatePem: fixture("other-pass.pem"), privateKeyPem: fixture("other-pass.key") }, "wrong_issuer", "wwdrCertificatePem"],
      [{ certificatePem: fixture("impostor-pass.pem") }, "issuer_signature_invalid", "wwdrCertificatePem"],
      [{ apns: { keyId: identity.apnsKeyId, teamId: identity.apnsTeamId, privateKeyPem: fixture("pass.key") } }, "apns_key_invalid", "apns.privateKeyPem"],
      [{ apns: { keyId: identity.apnsKeyId, teamId: identity.apnsTeamId, privateKeyPem: "x" } }, "apns_key_invalid", "apns.privateKeyPem"],
      [{ apns: { keyId: identity.apnsKeyId, teamId: identity.apnsTeamId, privateKeyPem: fixture("apns.p8"), host: "http://api.push.apple.com" } }, "apns_host_invalid", "apns.host"],
      [{ apns: { keyId: identity.apnsKeyId, teamId: identity.apnsTeamId, privateKeyPem: fixture("apns.p8"), host: "http://127.0.0.1:9999" } }, "apns_host_invalid", "apns.host"],
      [{ apns: { keyId: identity.apnsKeyId, teamId: identity.apnsTeamId, privateKeyPem: fixture("apns.p8"), host: "https://u:p@apns.test" } }, "apns_host_invalid", "apns.host"],
    ];
    for (const [over, reason, path, now] of cases) {
      const f = await failure(over, now);
      expect({ reason: f.reason, path: f.path }, `${reason} ${JSON.stringify(Object.keys(over))}`).toEqual({ reason, path });
      expect(f.message.length).toBeGreaterThan(10);
      expect(f.message).not.toMatch(/MII[A-Za-z0-9+/]{16}/);
    }
    const legacy = await failure({ privateKeyPem: fixture("pass.legacy-encrypted.key") });
    expect(legacy.message).toContain("openssl pkcs8 -topk8");
  });

  it("validates the APNs key and host and reports them without the key", async () => {
    const apns = { keyId: identity.apnsKeyId, teamId: identity.apnsTeamId, privateKeyPem: fixture("apns.p8") };
    const prod = await validate({ apns });
    expect(prod.ok && prod.value.summary.apns).toEqual({ keyId: identity.apnsKeyId, teamId: identity.apnsTeamId, host: "https://api.push.apple.com" });
    expect(prod.ok && prod.value.secret.apns?.privateKeyPem).toBe(fixture("apns.p8"));
    const sandbox = await validate({ apns: { ...apns, host: "https://api.sandbox.push.apple.com/" } });
    expect(sandbox.ok && sandbox.value.summary.apns?.host).toBe("https://api.sandbox.push.apple.com");
    const local = await validate({ apns: { ...apns, host: "http://127.0.0.1:8443" } }, NOW, true);
    expect(local.ok && local.value.summary.apns?.host).toBe("http://127.0.0.1:8443");
    expect(appleCredentialsBody.safeParse({ ...goodCredentials(), apns: { ...apns, keyId: "short" } }).success).toBe(false);
    expect(appleCredentialsBody.safeParse({ ...goodCredentials(), apns: { ...apns, teamId: "abcde12345" } }).success).toBe(false);
    expect(appleCredentialsBody.safeParse({ ...goodCredentials(), extra: 1 }).success).toBe(false);
  });

  it("refuses hostile PEM input quickly and without echoing it", async () => {
    const huge = "-----BEGIN CERTIFICATE-----\n" + "A".repeat(70_000) + "\n-----END CERTIFICATE-----";
    expect(appleCredentialsBody.safeParse({ ...goodCredentials(), certificatePem: huge }).success).toBe(false);
    const f = await failure({ certificatePem: "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----" });
    expect(f.reason).toBe("certificate_unreadable");
  });
});

it("decodes the default icons as PNGs of 29, 58 and 87 pixels", () => {
  const sizes = Object.entries(defaultIconImages()).map(([n, b]) => [n, pngSize(b)?.width, pngSize(b)?.height]);
  expect(sizes).toEqual([
    ["icon.png", 29, 29],
    ["icon@2x.png", 58, 58],
    ["icon@3x.png", 87, 87],
  ]);
  expect(fromBase64(ICON_B64)).toEqual(ICON);
});
