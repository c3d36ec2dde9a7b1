/**
 * Google Wallet core without routes or D1: credentials checks, service-account tokens (assertions
 * verified with jose and the public key), the template design schema, class and object bodies for
 * every pass type and status (validated against a hand-written subset of Google's Wallet Objects
 * schema that rejects unknown keys), patches and notification caps, save-link JWTs, and the Wallet
 * REST client against a fake Google at the fetch boundary (scripts/lib/google-fake-core.ts).
 */
import { decodeProtectedHeader, jwtVerify } from "jose";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { createFakeGoogle, type FakeGoogle } from "../scripts/lib/google-fake-core";
import type { FieldDef, PassStatus } from "../src/db/schema";
import { clearAuthCaches, getAccessToken, GoogleAuthError, REFRESH_MARGIN_MS, signingKey, WALLET_SCOPE, type ServiceAccountKey } from "../src/google/auth";
import type { BuildContext } from "../src/google/body-parts";
import { classBody } from "../src/google/class-body";
import { googleConfig, GOOGLE_DEFAULTS } from "../src/google/config";
import { checkGoogleCredentials } from "../src/google/credentials-check";
import { parseGoogleDesign, type GoogleDesign } from "../src/google/design";
import { googleClassId, googleObjectId, parseGoogleClassId, parseGoogleObjectId } from "../src/google/ids";
import { objectBody, type PassLike } from "../src/google/object-body";
import { googleState, resourceFor, RESOURCE_NAMES } from "../src/google/resources";
import { MAX_SAVE_JWT_LENGTH, SAVE_URL_PREFIX, saveLink } from "../src/google/save-link";
import { applyNotificationCap, changeMessage, nextNotificationAt, patchBody, planObjectUpdate } from "../src/google/updates";
import { probeSaves } from "../src/google/reconcile";
import { classifyResponse, objectHasUsers, retryAfterSeconds, retryDelaySeconds, walletClient } from "../src/google/wallet-api";
import { classSchema, expectValid, Message, objectPatchSchema, objectSchema, RESOURCE_OBJECT_KEYS } from "./support/wallet-objects-schema";

const ISSUER = "3388000000022141777";
const PROJECT = "prj_0123456789abcdefghijklm";
const EMAIL = "passhook-test@passhook-dev.iam.gserviceaccount.com";
const NOW = Date.UTC(2026, 5, 1, 12, 0, 0);
const TOKEN_URL = "https://oauth2.google.test/token";
const API_URL = "https://walletobjects.google.test/walletobjects/v1";

let privatePem: string;
let publicKey: CryptoKey;

async function rsaPem(bits = 2048): Promise<{ pem: string; publicKey: CryptoKey; der: Uint8Array }> {
  const pair = (await crypto.subtle.generateKey({ name: "RSASSA-PKCS1-v1_5", modulusLength: bits, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }, true, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;
  const der = new Uint8Array((await crypto.subtle.exportKey("pkcs8", pair.privateKey)) as ArrayBuffer);
  const b64 = btoa(String.fromCharCode(...der));
  return { pem: `-----BEGIN PRIVATE KEY-----\n${b64.match(/.{1,64}/g)!.join("\n")}\n-----END PRIVATE KEY-----\n`, publicKey: pair.publicKey, der };
}

beforeAll(async () => {
  const k = await rsaPem();
  privatePem = k.pem;
  publicKey = k.publicKey;
});

const account = (keyVersion = "v1"): ServiceAccountKey => ({ issuerId: ISSUER, serviceAccountEmail: EMAIL, privateKeyPem: privatePem, keyVersion });

// ---------------------------------------------------------------------------------------------------

describe("checkGoogleCredentials", () => {
  const good = () => ({ issuerId: ISSUER, serviceAccountEmail: EMAIL, privateKeyPem: privatePem, origins: ["https://shop.example.com", "http://localhost:8787"] });
  const paths = async (input: Record<string, unknown>) => {
    const r = await checkGoogleCredentials(input);
    return r.ok ? [] : r.error.map((i) => i.path);
  };

  it("accepts a service account and returns a summary without key material", async () => {
    const r = await checkGoogleCredentials(good());
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.summary).toEqual({
      issuerId: ISSUER,
      serviceAccountEmail: EMAIL,
      origins: ["https://shop.example.com", "http://localhost:8787"],
      keyBits: 2048,
      publicKeyFingerprint: expect.stringMatching(/^[0-9a-f]{16}$/),
    });
    const shown = JSON.stringify(r.value.summary);
    expect(shown).not.toContain("PRIVATE");
    expect(shown).not.toContain(privatePem.split("\n")[1].slice(0, 20));
    // The stored key is canonical PKCS#8 that jose imports.
    expect(r.value.secret.privateKeyPem).toBe(privatePem);
    await expect(signingKey({ ...account("canonical"), privateKeyPem: r.value.secret.privateKeyPem })).resolves.toBeTruthy();
  });

  it("accepts the key with literal \\n escapes, and the whole service-account JSON", async () => {
    const escaped = privatePem.replace(/\n/g, "\\n");
    const a = await checkGoogleCredentials({ ...good(), privateKeyPem: escaped });
    expect(a.ok && a.value.secret.privateKeyPem).toBe(privatePem);
    const json = JSON.stringify({ type: "service_account", client_email: EMAIL, private_key: privatePem, private_key_id: "abc" });
    const b = await checkGoogleCredentials({ ...good(), privateKeyPem: json });
    expect(b.ok && b.value.secret.privateKeyPem).toBe(privatePem);
    const mismatch = JSON.stringify({ client_email: "other-account@x-project.iam.gserviceaccount.com", private_key: privatePem });
    expect(await paths({ ...good(), privateKeyPem: mismatch })).toEqual(["serviceAccountEmail"]);
  });

  it("rejects keys that are not unencrypted PKCS#8 RSA of 2048 bits or more", async () => {
    const ec = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign"])) as CryptoKeyPair;
    const ecDer = new Uint8Array((await crypto.subtle.exportKey("pkcs8", ec.privateKey)) as ArrayBuffer);
    const ecPem = `-----BEGIN PRIVATE KEY-----\n${btoa(String.fromCharCode(...ecDer))}\n-----END PRIVATE KEY-----`;
    const small = await rsaPem(1024);
    const cases: [unknown, RegExp][] = [
      [undefined, /required/],
      ["   ", /required/],
      [ecPem, /not an RSA private key/],
      [small.pem, /1024-bit/],
      ["-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----", /PKCS#1/],
      ["-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIE\n-----END ENCRYPTED PRIVATE KEY-----", /encrypted/],
      ["-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----", /base64/],
      ["-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----", /not an RSA/],
      ["{not json", /does not parse/],
      ['{"client_email":"x"}', /no private_key/],
      ["x".repeat(20_000), /too long/],
    ];
    for (const [key, message] of cases) {
      const r = await checkGoogleCredentials({ ...good(), privateKeyPem: key });
      expect(r.ok, String(key).slice(0, 40)).toBe(false);
      if (!r.ok) expect(r.error.find((i) => i.path === "privateKeyPem")?.message).toMatch(message);
    }
  });

  it("checks the issuer id, the e-mail and the origins, reporting every issue at once", async () => {
    expect(await paths({ ...good(), issuerId: 3388000000022141777 })).toEqual(["issuerId"]);
    expect(await paths({ ...good(), issuerId: "33880000abc" })).toEqual(["issuerId"]);
    expect(await paths({ ...good(), serviceAccountEmail: "someone@gmail.com" })).toEqual(["serviceAccountEmail"]);
    expect(await paths({ ...good(), serviceAccountEmail: "sa@project.iam.gserviceaccount.com.evil.com" })).toEqual(["serviceAccountEmail"]);
    expect(await paths({ ...good(), origins: "https://x.com" })).toEqual(["origins"]);
    expect(await paths({ ...good(), origins: ["http://shop.example.com", "https://a.com/path", "https://u:p@a.com", "ftp://a.com", 7, "https://ok.com"] })).toEqual([
      "origins.0",
      "origins.1",
      "origins.2",
      "origins.3",
      "origins.4",
    ]);
    expect(await paths({})).toEqual(["issuerId", "serviceAccountEmail", "privateKeyPem"]);
    const r = await checkGoogleCredentials({ ...good(), origins: ["https://A.example.com/", "https://a.example.com"], serviceAccountEmail: ` ${EMAIL.toUpperCase()} ` });
    expect(r.ok && r.value.summary.origins).toEqual(["https://a.example.com"]);
    expect(r.ok && r.value.summary.serviceAccountEmail).toBe(EMAIL);
  });
});

// ---------------------------------------------------------------------------------------------------

describe("service-account access tokens", () => {
  let fake: FakeGoogle;
  let clock = NOW;

  beforeEach(() => {
    clearAuthCaches();
    clock = NOW;
    fake = createFakeGoogle({ tokenUrl: TOKEN_URL, publicKeys: new Map([[EMAIL, publicKey]]), now: () => clock });
    vi.spyOn(globalThis, "fetch").mockImplementation((input, init) => fake.handle(new Request(input as RequestInfo, init)));
  });
  afterEach(() => vi.restoreAllMocks());

  const tokenCalls = () => fake.requests.filter((r) => r.path === "/token");

  it("signs an RS256 assertion that verifies with the service account's public key", async () => {
    const token = await getAccessToken(account(), { tokenUrl: TOKEN_URL, now: clock });
    expect(token).toMatch(/^ya29\.fake-1-/);
    const form = new URLSearchParams(tokenCalls()[0].body as string);
    expect(form.get("grant_type")).toBe("urn:ietf:params:oauth:grant-type:jwt-bearer");
    const assertion = form.get("assertion")!;
    expect(decodeProtectedHeader(assertion)).toEqual({ alg: "RS256", typ: "JWT" });
    const { payload } = await jwtVerify(assertion, publicKey, { audience: TOKEN_URL, issuer: EMAIL, currentDate: new Date(NOW) });
    expect(payload).toEqual({ iss: EMAIL, aud: TOKEN_URL, scope: WALLET_SCOPE, iat: NOW / 1000, exp: NOW / 1000 + 3600 });
    // A key that is not the service account's does not verify it.
    const other = await rsaPem();
    await expect(jwtVerify(assertion, other.publicKey)).rejects.toThrow();
  });

  it("reuses one token for many calls and shares one exchange between concurrent callers", async () => {
    const tokens = await Promise.all(Array.from({ length: 20 }, () => getAccessToken(account(), { tokenUrl: TOKEN_URL, now: clock })));
    expect(new Set(tokens).size).toBe(1);
    expect(tokenCalls()).toHaveLength(1);
    clock = NOW + 3599_000 - REFRESH_MARGIN_MS - 1;
    expect(await getAccessToken(account(), { tokenUrl: TOKEN_URL, now: clock })).toBe(tokens[0]);
    expect(tokenCalls()).toHaveLength(1);
  });

  it("refreshes 5 minutes before expiry, and per key version", async () => {
    const first = await getAccessToken(account(), { tokenUrl: TOKEN_URL, now: clock });
    clock = NOW + 3599_000 - REFRESH_MARGIN_MS;
    const second = await getAccessToken(account(), { tokenUrl: TOKEN_URL, now: clock });
    expect(second).not.toBe(first);
    expect(tokenCalls()).toHaveLength(2);
    const rotated = await getAccessToken(account("v2"), { tokenUrl: TOKEN_URL, now: clock });
    expect(rotated).not.toBe(second);
    expect(tokenCalls()).toHaveLength(3);
  });

  it("reports Google's OAuth error; 4xx is final, 5xx retryable; failures are not cached", async () => {
    const wrong = await rsaPem();
    const err = await getAccessToken({ ...account("wrong"), privateKeyPem: wrong.pem }, { tokenUrl: TOKEN_URL, now: clock }).catch((e) => e);
    expect(err).toBeInstanceOf(GoogleAuthError);
    expect(err.message).toBe("token endpoint answered 400: invalid_grant (Invalid JWT Signature.)");
    expect(err.retryable).toBe(false);
    expect(err.message).not.toContain(wrong.pem.slice(30, 60));

    const aud = await getAccessToken(account("aud"), { tokenUrl: "https://elsewhere.test/token", now: clock }).catch((e) => e);
    expect(aud.message).toContain("invalid_grant");

    fake.failNext("POST", /^\/token$/, () => new Response("busy", { status: 503 }));
    const busy = await getAccessToken(account("busy"), { tokenUrl: TOKEN_URL, now: clock }).catch((e) => e);
    expect(busy.retryable).toBe(true);
    expect(busy.status).toBe(503);
    await expect(getAccessToken(account("busy"), { tokenUrl: TOKEN_URL, now: clock })).resolves.toMatch(/^ya29/);
  });
});

// ---------------------------------------------------------------------------------------------------

const FIELDS: FieldDef[] = [
  { key: "name", label: "Name", type: "text", required: true },
  { key: "points", label: "Points", type: "number" },
  { key: "tier", label: "Tier", type: "text" },
  { key: "member", label: "Member code", type: "barcode" },
  { key: "expires", label: "Expires", type: "date" },
  { key: "starts", label: "Starts", type: "date" },
  { key: "site", label: "Site", type: "url" },
  { key: "seat", label: "Seat", type: "text" },
  { key: "card", label: "Card number", type: "text" },
  { key: "pin", label: "PIN", type: "text" },
  { key: "balance", label: "Balance", type: "number" },
];

describe("parseGoogleDesign", () => {
  const issues = (raw: unknown, passType = "loyalty") => {
    const r = parseGoogleDesign(raw, FIELDS, passType);
    return r.ok ? [] : r.error;
  };

  it("accepts an empty or null design and applies defaults", () => {
    expect(parseGoogleDesign(null, FIELDS, "generic")).toEqual({ ok: true, value: { language: "en" } });
    const r = parseGoogleDesign({ barcode: { field: "member" }, offer: {} }, FIELDS, "coupon");
    expect(r.ok && r.value).toEqual({ language: "en", barcode: { field: "member", type: "QR_CODE" }, offer: { redemptionChannel: "BOTH" } });
  });

  it("rejects hostile keys at any depth, and unknown keys", () => {
    expect(issues(JSON.parse('{"__proto__": {"polluted": true}}')).map((i) => i.path)).toEqual(["google.__proto__"]);
    expect(issues(JSON.parse('{"barcode": {"field": "member", "constructor": {"prototype": 1}}}')).map((i) => i.path)).toEqual(["google.barcode.constructor"]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(issues({ hexBackgroundColour: "#fff" })[0].path).toBe("google");
    expect(issues({ barcode: { field: "member", kind: "QR" } })[0].path).toBe("google.barcode");
  });

  it("checks values: https images, colours, barcode type enum, text module count", () => {
    expect(issues({ logoUri: "http://example.com/logo.png" })[0].path).toBe("google.logoUri");
    expect(issues({ heroImageUri: "javascript:alert(1)" })[0].path).toBe("google.heroImageUri");
    expect(issues({ hexBackgroundColor: "red" })[0].path).toBe("google.hexBackgroundColor");
    expect(issues({ barcode: { field: "member", type: "qrCode" } })[0].path).toBe("google.barcode.type");
    expect(issues({ textModules: Array.from({ length: 11 }, () => "name") })[0].path).toBe("google.textModules");
    expect(issues({ issuerName: "   " })[0].path).toBe("google.issuerName");
  });

  it("checks the design against the template's fields and pass type", () => {
    expect(issues({ barcode: { field: "nope" } }).map((i) => i.path)).toEqual(["google.barcode.field"]);
    expect(issues({ validUntilField: "name" })[0].message).toMatch(/date field/);
    expect(issues({ loyalty: { pointsField: "expires" } })[0].path).toBe("google.loyalty.pointsField");
    expect(issues({ giftCard: { cardNumberField: "card" } }, "loyalty")[0].message).toMatch(/only to storeCard/);
    expect(issues({ giftCard: { cardNumberField: "card", balanceField: "balance" } }, "storeCard")[0].path).toBe("google.giftCard");
    expect(issues({ offer: {} }, "generic")[0].path).toBe("google.offer");
    expect(issues({ eventTicket: { venueName: "Hall" } }, "eventTicket")[0].path).toBe("google.eventTicket");
    expect(issues({ notifyOnChange: ["points", "ghost"] }).map((i) => i.path)).toEqual(["google.notifyOnChange.1"]);
  });
});

// ---------------------------------------------------------------------------------------------------

const CTX: BuildContext = {
  issuerId: ISSUER,
  projectId: PROJECT,
  issuerName: "Demo Shop",
  defaultLogoUri: "https://passhook.test/google/default-logo.png",
  callbackUrl: "https://passhook.test/google/callback",
};

const PASS_TYPES = ["loyalty", "coupon", "eventTicket", "generic", "storeCard", "boardingPass"] as const;
const STATUSES: PassStatus[] = ["active", "expired", "voided", "redeemed"];

function design(passType: string, extra: Record<string, unknown> = {}): GoogleDesign {
  const sections: Record<string, Record<string, unknown>> = {
    loyalty: { loyalty: { accountNameField: "name", pointsField: "points", rewardsTierField: "tier" } },
    storeCard: { giftCard: { cardNumberField: "card", pinField: "pin", balanceField: "balance", currencyCode: "EUR" } },
    coupon: { offer: { provider: "Demo", details: "10 % off" } },
    eventTicket: { eventTicket: { venueName: "Hall", venueAddress: "1 Main St", seatField: "seat", ticketHolderNameField: "name" } },
  };
  const raw = {
    hexBackgroundColor: "#123abc",
    logoUri: "https://cdn.example.com/logo.png",
    heroImageUri: "https://cdn.example.com/hero.png",
    homepageUri: "https://shop.example.com",
    barcode: { field: "member", type: "PDF_417", alternateTextField: "name" },
    validFromField: "starts",
    validUntilField: "expires",
    notifyOnChange: ["points", "tier"],
    ...(sections[passType] ?? {}),
    ...extra,
  };
  const r = parseGoogleDesign(raw, FIELDS, passType);
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  return r.value;
}

const template = (passType: string, id = 12) => ({ id, name: `${passType} template`, passType, fields: FIELDS });
const FULL_FIELDS = { name: "Ada Lovelace", points: 1200, tier: "Gold", member: "M-0001", expires: "2026-12-31", starts: "2026-01-01T09:00:00.000Z", site: "https://shop.example.com/ada", seat: "12A", card: "6006-1234", pin: "4321", balance: 25.5 };
const pass = (over: Partial<PassLike> = {}): PassLike => ({ id: 4711, status: "active", archivedAt: null, fields: FULL_FIELDS, externalId: "ext-1", ...over });

describe("class and object bodies", () => {
  it("maps pass types to Google verticals", () => {
    const r = (t: string, d: Partial<GoogleDesign> = {}) => resourceFor(t, d as GoogleDesign);
    expect(PASS_TYPES.map((t) => r(t))).toEqual(["loyalty", "offer", "eventTicket", "generic", "loyalty", "generic"]);
    expect(r("storeCard", { giftCard: { cardNumberField: "card" } })).toBe("giftCard");
    expect(RESOURCE_NAMES.giftCard).toEqual({ classPath: "giftCardClass", objectPath: "giftCardObject", classesKey: "giftCardClasses", objectsKey: "giftCardObjects" });
  });

  it("maps every status, and archived, to an object state", () => {
    const state = (status: PassStatus, archivedAt: number | null = null) => googleState({ status, archivedAt });
    expect(STATUSES.map((s) => state(s))).toEqual(["ACTIVE", "EXPIRED", "INACTIVE", "COMPLETED"]);
    expect(STATUSES.map((s) => state(s, NOW))).toEqual(["INACTIVE", "INACTIVE", "INACTIVE", "INACTIVE"]);
  });

  it("derives stable ids from the allowed characters, and parses them back for this issuer only", () => {
    expect(googleClassId(ISSUER, PROJECT, 12)).toBe(`${ISSUER}.${PROJECT}.t12`);
    const oid = googleObjectId(ISSUER, PROJECT, 4711);
    expect(oid).toBe(`${ISSUER}.${PROJECT}.p4711`);
    expect(oid).toMatch(/^\d+\.[A-Za-z0-9._-]+$/);
    expect(parseGoogleObjectId(oid, ISSUER)).toEqual({ projectId: PROJECT, passId: 4711 });
    expect(parseGoogleClassId(googleClassId(ISSUER, PROJECT, 12), ISSUER)).toEqual({ projectId: PROJECT, templateId: 12 });
    expect(parseGoogleObjectId(oid, "1234")).toBeNull();
    expect(parseGoogleObjectId(googleClassId(ISSUER, PROJECT, 12), ISSUER)).toBeNull();
    expect(parseGoogleObjectId(`${ISSUER}.${PROJECT}.p99999999999999999`, ISSUER)).toBeNull();
    expect(parseGoogleObjectId(`${ISSUER}.lib.edutap.eu`, ISSUER)).toBeNull();
    expect(() => googleObjectId(ISSUER, "prj/../x", 1)).toThrow();
    expect(() => googleObjectId("33a", PROJECT, 1)).toThrow();
    expect(() => googleObjectId(ISSUER, PROJECT, 0)).toThrow();
  });

  it("builds schema-valid classes and objects for every pass type and status, with and without a design", () => {
    for (const passType of PASS_TYPES) {
      for (const d of [design(passType), design("generic", { barcode: undefined, validFromField: undefined, validUntilField: undefined, notifyOnChange: undefined, hexBackgroundColor: undefined, logoUri: undefined, heroImageUri: undefined, homepageUri: undefined })]) {
        const kind = resourceFor(passType, d);
        const cls = classBody(template(passType), d, CTX);
        expectValid(classSchema(kind), cls, `${passType} ${kind} class`);
        expect(cls.callbackOptions).toEqual({ url: CTX.callbackUrl });
        for (const status of STATUSES) {
          for (const archivedAt of [null, NOW]) {
            const obj = objectBody(template(passType), pass({ status, archivedAt }), d, CTX);
            expectValid(objectSchema(kind), obj, `${passType} ${status} object`);
            expect(obj.state).toBe(googleState({ status, archivedAt }));
            expect(obj.classId).toBe(cls.id);
            expectValid(objectPatchSchema(kind), patchBody(kind, obj), `${passType} ${status} patch`);
          }
        }
        // A pass with no field values is still valid (required slots fall back).
        expectValid(objectSchema(kind), objectBody(template(passType), pass({ fields: {} }), d, CTX), `${passType} empty object`);
      }
    }
  });

  it("the schema subset itself catches misspelt, misplaced and mistyped fields", () => {
    const obj = objectBody(template("loyalty"), pass(), design("loyalty"), CTX);
    expect(() => expectValid(objectSchema("loyalty"), { ...obj, textModuleData: [] }, "misspelt")).toThrow(/textModuleData/);
    expect(() => expectValid(objectSchema("loyalty"), { ...obj, hexBackgroundColor: "#fff" }, "class-only field")).toThrow(/hexBackgroundColor/);
    expect(() => expectValid(objectSchema("loyalty"), { ...obj, state: "active" }, "legacy enum")).toThrow(/state/);
    expect(() => expectValid(objectSchema("generic"), { id: obj.id, classId: obj.classId, state: "ACTIVE" }, "missing required")).toThrow(/cardTitle/);
    expect(() => expectValid(classSchema("loyalty"), { ...classBody(template("loyalty"), design("loyalty"), CTX), reviewStatus: "draft" }, "enum")).toThrow(/reviewStatus/);
  });

  it("fills the loyalty slots: account, points as int32/double/string, tier first among text modules", () => {
    const d = design("loyalty");
    const obj = objectBody(template("loyalty"), pass(), d, CTX);
    expect(obj).toMatchObject({
      id: `${ISSUER}.${PROJECT}.p4711`,
      classId: `${ISSUER}.${PROJECT}.t12`,
      state: "ACTIVE",
      accountName: "Ada Lovelace",
      loyaltyPoints: { label: "Points", balance: { int: 1200 } },
      barcode: { type: "PDF_417", value: "M-0001", alternateText: "Ada Lovelace" },
      validTimeInterval: { start: { date: "2026-01-01T09:00:00.000Z" }, end: { date: "2026-12-31T23:59:59Z" } },
    });
    const modules = obj.textModulesData as { id: string; header: string; body: string }[];
    expect(modules[0]).toEqual({ id: "tier", header: "Tier", body: "Gold" });
    expect(modules.map((m) => m.id)).not.toContain("member");
    expect(modules.filter((m) => m.id === "tier")).toHaveLength(1);
    const points = (v: number | string) => (objectBody(template("loyalty"), pass({ fields: { ...FULL_FIELDS, points: v } as never }), d, CTX).loyaltyPoints as { balance: unknown }).balance;
    expect(points(2.5)).toEqual({ double: 2.5 });
    expect(points(2 ** 31)).toEqual({ double: 2 ** 31 });
    expect(points("1.200")).toEqual({ string: "1.200" });
    const cls = classBody(template("loyalty"), d, CTX);
    expect(cls).toMatchObject({ issuerName: "Demo Shop", programName: "loyalty template", reviewStatus: "UNDER_REVIEW", accountNameLabel: "Name", rewardsTierLabel: "Tier" });
    expect(classBody(template("loyalty"), { language: "en" }, CTX).programLogo).toEqual({ sourceUri: { uri: CTX.defaultLogoUri }, contentDescription: { defaultValue: { language: "en", value: "Demo Shop" } } });
  });

  it("gift cards (storeCard opt-in) carry card number, PIN and money in micros", () => {
    const d = design("storeCard");
    const obj = objectBody(template("storeCard"), pass(), d, CTX);
    expect(obj).toMatchObject({ cardNumber: "6006-1234", pin: "4321", balance: { micros: "25500000", currencyCode: "EUR" } });
    expect(objectBody(template("storeCard"), pass({ fields: {} }), d, CTX).cardNumber).toBe("ext-1");
  });

  it("generic (and boardingPass) objects carry the look; the header may come from a field", () => {
    const obj = objectBody(template("boardingPass"), pass(), design("boardingPass", { headerField: "seat", subheader: "Seat", cardTitle: "Demo Air" }), CTX);
    expect(obj).toMatchObject({
      cardTitle: { defaultValue: { language: "en", value: "Demo Air" } },
      header: { defaultValue: { language: "en", value: "12A" } },
      subheader: { defaultValue: { language: "en", value: "Seat" } },
      hexBackgroundColor: "#123abc",
      logo: { sourceUri: { uri: "https://cdn.example.com/logo.png" } },
    });
    const plain = objectBody(template("generic"), pass({ fields: { name: "Ada" } }), { language: "en" }, CTX);
    expect(plain).toEqual({
      id: `${ISSUER}.${PROJECT}.p4711`,
      classId: `${ISSUER}.${PROJECT}.t12`,
      state: "ACTIVE",
      textModulesData: [{ id: "name", header: "Name", body: "Ada" }],
      cardTitle: { defaultValue: { language: "en", value: "Demo Shop" } },
      header: { defaultValue: { language: "en", value: "generic template" } },
    });
    expect(classBody(template("generic"), { language: "en" }, { ...CTX, callbackUrl: undefined })).toEqual({ id: `${ISSUER}.${PROJECT}.t12` });
  });

  it("event tickets and offers use their own slots", () => {
    const ev = objectBody(template("eventTicket"), pass(), design("eventTicket"), CTX);
    expect(ev).toMatchObject({ ticketHolderName: "Ada Lovelace", seatInfo: { seat: { defaultValue: { language: "en", value: "12A" } } } });
    expect(classBody(template("eventTicket"), design("eventTicket"), CTX)).toMatchObject({ eventName: { defaultValue: { value: "eventTicket template" } }, venue: { name: { defaultValue: { value: "Hall" } } } });
    expect(classBody(template("coupon"), design("coupon"), CTX)).toMatchObject({ title: "coupon template", provider: "Demo", redemptionChannel: "BOTH", details: "10 % off" });
  });
});

describe("patches and notifications", () => {
  const d = design("loyalty");
  const t = template("loyalty");

  it("a full-state patch names every managed key, clearing absent ones with null", () => {
    const after = objectBody(t, pass({ fields: { name: "Ada" }, status: "expired" }), d, CTX);
    const patch = patchBody("loyalty", after);
    expect(patch).toMatchObject({ state: "EXPIRED", barcode: null, loyaltyPoints: null, validTimeInterval: null, accountName: "Ada" });
    expect(patch).not.toHaveProperty("id");
    expectValid(objectPatchSchema("loyalty"), patch, "full patch");
  });

  it("a diff patch sends only what changed", () => {
    const before = objectBody(t, pass(), d, CTX);
    expect(patchBody("loyalty", objectBody(t, pass({ status: "expired" }), d, CTX), before)).toEqual({ state: "EXPIRED" });
    expect(patchBody("loyalty", objectBody(t, pass({ fields: { ...FULL_FIELDS, member: undefined } as never }), d, CTX), before)).toEqual({ barcode: null });
    expect(patchBody("loyalty", before, before)).toEqual({});
  });

  it("builds a notifying message only for watched fields, with a version-derived id", () => {
    const m = changeMessage(t, d, FULL_FIELDS, { ...FULL_FIELDS, points: 1300, name: "Ada L." }, 7);
    expect(m).toEqual({ id: "change-v7", header: "loyalty template updated", body: "Points: 1300", messageType: "TEXT_AND_NOTIFY" });
    expectValid(Message, m, "message");
    expect(changeMessage(t, d, FULL_FIELDS, { ...FULL_FIELDS, name: "Other" }, 8)).toBeNull();
    expect(changeMessage(t, d, FULL_FIELDS, { ...FULL_FIELDS, tier: undefined } as never, 9)?.body).toBe("Tier removed");
  });

  it("caps notifications at 3 per pass in 24 hours, then sends plain text", () => {
    const msg = changeMessage(t, d, FULL_FIELDS, { ...FULL_FIELDS, points: 1 }, 2)!;
    let sent: number[] = [];
    const types: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = applyNotificationCap(msg, sent, NOW + i * 60_000);
      types.push(r.message.messageType);
      sent = r.sentAt;
    }
    expect(types).toEqual(["TEXT_AND_NOTIFY", "TEXT_AND_NOTIFY", "TEXT_AND_NOTIFY", "TEXT", "TEXT"]);
    expect(sent).toHaveLength(3);
    expect(nextNotificationAt(sent, NOW + 10 * 60_000)).toBe(NOW + 86_400_000);
    expect(applyNotificationCap(msg, sent, NOW + 86_400_000 - 1).message.messageType).toBe("TEXT");
    const later = applyNotificationCap(msg, sent, NOW + 86_400_000);
    expect(later.message.messageType).toBe("TEXT_AND_NOTIFY");
    expect(later.sentAt).toEqual([NOW + 60_000, NOW + 120_000, NOW + 86_400_000]);
  });

  it("plans one update: the patch clears old messages when a new one follows", () => {
    const after = objectBody(t, pass({ fields: { ...FULL_FIELDS, points: 5 } }), d, CTX);
    const plan = planObjectUpdate({ resource: "loyalty", template: t, design: d, after, afterFields: { ...FULL_FIELDS, points: 5 }, beforeFields: FULL_FIELDS, version: 3, notifySentAt: [], now: NOW });
    expect(plan.patch.messages).toEqual([]);
    expect(plan.message?.messageType).toBe("TEXT_AND_NOTIFY");
    expect(plan.notifySentAt).toEqual([NOW]);
    expectValid(objectPatchSchema("loyalty"), plan.patch, "planned patch");
    const quiet = planObjectUpdate({ resource: "loyalty", template: t, design: d, after, afterFields: FULL_FIELDS, version: 4, notifySentAt: [NOW - 2 * 86_400_000], now: NOW });
    expect(quiet.message).toBeNull();
    expect(quiet.patch).not.toHaveProperty("messages");
    expect(quiet.notifySentAt).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------

describe("save links", () => {
  const obj = () => objectBody(template("loyalty"), pass(), design("loyalty"), CTX);

  it("a skinny savetowallet JWT carries only the object's ids and verifies with the public key", async () => {
    const key = await signingKey(account());
    const r = await saveLink({ key, serviceAccountEmail: EMAIL, origins: ["https://shop.example.com"], resource: "loyalty", object: obj(), objectExists: true, now: NOW });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.variant).toBe("skinny");
    expect(r.value.url).toBe(SAVE_URL_PREFIX + r.value.jwt);
    expect(r.value.jwt.length).toBeLessThanOrEqual(MAX_SAVE_JWT_LENGTH);
    expect(decodeProtectedHeader(r.value.jwt)).toEqual({ alg: "RS256", typ: "JWT" });
    const { payload } = await jwtVerify(r.value.jwt, publicKey, { audience: "google", issuer: EMAIL });
    expect(payload).toEqual({
      iss: EMAIL,
      aud: "google",
      typ: "savetowallet",
      iat: NOW / 1000,
      origins: ["https://shop.example.com"],
      payload: { loyaltyObjects: [{ id: `${ISSUER}.${PROJECT}.p4711`, classId: `${ISSUER}.${PROJECT}.t12` }] },
    });
  });

  it("an inline object is the full, schema-valid object under the resource's Resources key", async () => {
    const key = await signingKey(account());
    const small = objectBody(template("generic"), pass({ fields: { name: "Ada" } }), { language: "en" }, CTX);
    const r = await saveLink({ key, serviceAccountEmail: EMAIL, origins: [], resource: "generic", object: small, objectExists: false, now: NOW });
    expect(r.ok && r.value.variant).toBe("inline");
    if (!r.ok) return;
    const { payload } = await jwtVerify(r.value.jwt, publicKey);
    const resources = payload.payload as Record<string, unknown[]>;
    expect(Object.keys(resources)).toEqual(["genericObjects"]);
    expectValid(objectSchema(RESOURCE_OBJECT_KEYS.genericObjects), resources.genericObjects[0], "inline object");
    expect(resources.genericObjects[0]).toEqual(small);
  });

  it("refuses an inline object that would pass Google's 1800-character JWT limit", async () => {
    const key = await signingKey(account());
    const big = objectBody(template("loyalty"), pass({ fields: { ...FULL_FIELDS, site: `https://shop.example.com/${"a".repeat(600)}` } }), design("loyalty"), CTX);
    const r = await saveLink({ key, serviceAccountEmail: EMAIL, origins: [], resource: "loyalty", object: big, objectExists: false, now: NOW });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.reason).toBe("too_long");
    expect(r.error.length).toBeGreaterThan(MAX_SAVE_JWT_LENGTH);
    expect(r.error.message).toMatch(/insert the object first/);
  });
});

// ---------------------------------------------------------------------------------------------------

describe("Wallet REST client against a fake Google", () => {
  let fake: FakeGoogle;
  let clock = NOW;
  const d = design("loyalty");
  const t = template("loyalty");
  const client = () => walletClient({ baseUrl: API_URL, tokenUrl: TOKEN_URL, account: account(), now: () => clock });

  beforeEach(() => {
    clearAuthCaches();
    clock = NOW;
    fake = createFakeGoogle({ tokenUrl: TOKEN_URL, publicKeys: new Map([[EMAIL, publicKey]]), now: () => clock });
    vi.spyOn(globalThis, "fetch").mockImplementation((input, init) => {
      const req = new Request(input as RequestInfo, init);
      const host = new URL(req.url).host;
      expect(["oauth2.google.test", "walletobjects.google.test"]).toContain(host);
      return fake.handle(req);
    });
  });
  afterEach(() => vi.restoreAllMocks());

  const walletCalls = () => fake.requests.filter((r) => r.path.startsWith("/walletobjects/"));

  it("upserts a class: insert, then 409 -> update (PUT) with the whole class", async () => {
    const c = client();
    const body = classBody(t, d, CTX);
    expect(await c.upsertClass("loyalty", body)).toMatchObject({ kind: "ok", op: "inserted" });
    const renamed = classBody({ ...t, name: "Gold club" }, d, CTX);
    expect(await c.upsertClass("loyalty", renamed)).toMatchObject({ kind: "ok", op: "updated" });
    expect(walletCalls().map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      "POST /walletobjects/v1/loyaltyClass 200",
      "POST /walletobjects/v1/loyaltyClass 409",
      `PUT /walletobjects/v1/loyaltyClass/${encodeURIComponent(String(body.id))} 200`,
    ]);
    expect(fake.object("loyaltyClass", String(body.id))?.programName).toBe("Gold club");
    // One token served every call.
    expect(fake.requests.filter((r) => r.path === "/token")).toHaveLength(1);
  });

  it("upserts an object: insert, then 409 -> PATCH; expiring sends state EXPIRED", async () => {
    const c = client();
    await c.upsertClass("loyalty", classBody(t, d, CTX));
    const obj = objectBody(t, pass(), d, CTX);
    expect(await c.upsertObject("loyalty", obj, patchBody("loyalty", obj))).toMatchObject({ kind: "ok", op: "inserted" });
    const expired = objectBody(t, pass({ status: "expired", fields: { name: "Ada Lovelace" } }), d, CTX);
    expect(await c.upsertObject("loyalty", expired, patchBody("loyalty", expired))).toMatchObject({ kind: "ok", op: "updated" });
    const last = walletCalls().at(-1)!;
    expect(last.method).toBe("PATCH");
    expect(last.body).toMatchObject({ state: "EXPIRED", barcode: null });
    const stored = fake.object("loyaltyObject", String(obj.id))!;
    expect(stored.state).toBe("EXPIRED");
    expect(stored).not.toHaveProperty("barcode");
    const got = await c.getObject("loyalty", String(obj.id));
    expect(got.kind === "ok" && got.body?.state).toBe("EXPIRED");
    expect(objectHasUsers(got.kind === "ok" ? got.body : null)).toBe(false);
  });

  it("classifies Google's answers: 404, 400 with Google's message, 403, an object without its class", async () => {
    const c = client();
    expect(await c.getObject("loyalty", `${ISSUER}.x.p1`)).toEqual({ kind: "not_found", status: 404, message: `Wallet Object ${ISSUER}.x.p1 not found.` });
    expect(await c.insertObject("loyalty", { id: "bad id!", classId: "x", state: "ACTIVE" })).toEqual({ kind: "failed", status: 400, message: "Invalid resource ID: bad id!", reason: "invalidResource" });
    const obj = objectBody(t, pass({ id: 9 }), d, CTX);
    expect(await c.upsertObject("loyalty", obj, {})).toMatchObject({ kind: "not_found", message: expect.stringContaining("Class") });
    fake.failNext("POST", /loyaltyClass$/, () => fake.googleError(403, "Permission Denied", "permissionDenied", "PERMISSION_DENIED"));
    expect(await c.upsertClass("loyalty", classBody(t, d, CTX))).toEqual({ kind: "failed", status: 403, message: "Permission Denied", reason: "permissionDenied" });
  });

  it("429 and 5xx are retryable with Retry-After; a network failure is retryable too", async () => {
    const c = client();
    fake.failNext("POST", /loyaltyClass$/, () => fake.googleError(429, "Quota exceeded", "rateLimitExceeded", "RESOURCE_EXHAUSTED"));
    const r429 = await c.upsertClass("loyalty", classBody(t, d, CTX));
    expect(r429).toEqual({ kind: "retryable", status: 429, message: "Quota exceeded", retryAfterSeconds: null });
    fake.failNext("POST", /loyaltyClass$/, () => new Response("<html>Bad gateway</html>", { status: 502, headers: { "retry-after": "30" } }));
    expect(await c.upsertClass("loyalty", classBody(t, d, CTX))).toEqual({ kind: "retryable", status: 502, message: "HTTP 502", retryAfterSeconds: 30 });
    fake.failNext("POST", /loyaltyClass$/, () => {
      throw new TypeError("fetch failed");
    });
    expect(await c.upsertClass("loyalty", classBody(t, d, CTX))).toMatchObject({ kind: "retryable", status: null });
    expect(await c.upsertClass("loyalty", classBody(t, d, CTX))).toMatchObject({ kind: "ok", op: "inserted" });
  });

  it("a 401 drops the token and retries once with a fresh one; a second 401 fails", async () => {
    const c = client();
    await c.upsertClass("loyalty", classBody(t, d, CTX));
    fake.revokeTokens();
    expect(await c.getClass("loyalty", String(classBody(t, d, CTX).id))).toMatchObject({ kind: "ok" });
    expect(fake.requests.filter((r) => r.path === "/token")).toHaveLength(2);
    fake.failNext("GET", /loyaltyClass\//, () => fake.googleError(401, "Invalid Credentials", "authError", "UNAUTHENTICATED"));
    fake.failNext("GET", /loyaltyClass\//, () => fake.googleError(401, "Invalid Credentials", "authError", "UNAUTHENTICATED"));
    expect(await c.getClass("loyalty", String(classBody(t, d, CTX).id))).toEqual({ kind: "failed", status: 401, message: "Invalid Credentials", reason: "unauthorized" });
  });

  it("a refused token exchange is a failed outcome, not an exception", async () => {
    const wrong = await rsaPem();
    const c = walletClient({ baseUrl: API_URL, tokenUrl: TOKEN_URL, account: { ...account("bad"), privateKeyPem: wrong.pem }, now: () => clock });
    expect(await c.getClass("loyalty", `${ISSUER}.x.t1`)).toMatchObject({ kind: "failed", status: 400, reason: "auth", message: expect.stringContaining("invalid_grant") });
    expect(walletCalls()).toHaveLength(0);
  });

  it("adds messages, lists objects page by page and reads hasUsers", async () => {
    const c = client();
    await c.upsertClass("loyalty", classBody(t, d, CTX));
    for (const id of [1, 2, 3]) {
      const o = objectBody(t, pass({ id }), d, CTX);
      await c.insertObject("loyalty", o);
    }
    const oid = googleObjectId(ISSUER, PROJECT, 2);
    const msg = changeMessage(t, d, FULL_FIELDS, { ...FULL_FIELDS, points: 1 }, 5)!;
    expect(await c.addObjectMessage("loyalty", oid, { ...msg })).toMatchObject({ kind: "ok" });
    expect(fake.object("loyaltyObject", oid)?.messages).toEqual([msg]);
    await fake.handle(new Request(`https://walletobjects.google.test/_fake/objects/${oid}/users`, { method: "POST" }));

    const classId = googleClassId(ISSUER, PROJECT, 12);
    const first = await c.listObjects("loyalty", classId, { maxResults: 2 });
    expect(first.page?.resources.map((o) => o.id)).toEqual([googleObjectId(ISSUER, PROJECT, 1), oid]);
    expect(first.page?.resources.map(objectHasUsers)).toEqual([false, true]);
    const second = await c.listObjects("loyalty", classId, { maxResults: 2, token: first.page!.nextPageToken! });
    expect(second.page).toEqual({ resources: [expect.objectContaining({ id: googleObjectId(ISSUER, PROJECT, 3) })], nextPageToken: null });
    expect(walletCalls().at(-1)!.path).toBe(`/walletobjects/v1/loyaltyObject?classId=${encodeURIComponent(classId)}&maxResults=2&token=2`);
  });

  it("probes saves for reconciliation: saved, not saved, missing; bounded, and stopped by a rate limit", async () => {
    const c = client();
    await c.upsertClass("loyalty", classBody(t, d, CTX));
    for (const id of [1, 2]) await c.insertObject("loyalty", objectBody(t, pass({ id }), d, CTX));
    await fake.handle(new Request(`https://walletobjects.google.test/_fake/objects/${googleObjectId(ISSUER, PROJECT, 2)}/users`, { method: "POST" }));
    const candidates = [1, 2, 3, 4, 5].map((passId) => ({ passId, resource: "loyalty" as const, objectId: googleObjectId(ISSUER, PROJECT, passId) }));
    expect(await probeSaves(c, candidates, { max: 3 })).toEqual({ saved: [2], notSaved: [1], missing: [3], deferred: [4, 5], failed: [] });

    fake.failNext("GET", /loyaltyObject\//, () => fake.googleError(403, "Permission Denied", "permissionDenied", "PERMISSION_DENIED"));
    fake.failNext("GET", /loyaltyObject\//, () => fake.googleError(429, "Quota exceeded", "rateLimitExceeded", "RESOURCE_EXHAUSTED"));
    const before = walletCalls().length;
    expect(await probeSaves(c, candidates, { max: 10 })).toEqual({ saved: [], notSaved: [], missing: [], deferred: [2, 3, 4, 5], failed: [{ passId: 1, message: "Permission Denied" }] });
    expect(walletCalls().length - before).toBe(2);
  });

  it("pure pieces: classification, Retry-After and backoff", () => {
    const h = (o: Record<string, string> = {}) => new Headers(o);
    expect(classifyResponse(200, h(), '{"id":"1.a"}', NOW)).toEqual({ kind: "ok", status: 200, body: { id: "1.a" } });
    expect(classifyResponse(204, h(), "", NOW)).toEqual({ kind: "ok", status: 204, body: null });
    expect(classifyResponse(409, h(), '{"error":{"code":409,"message":"Wallet Object Class 1.a already exists."}}', NOW)).toEqual({ kind: "exists", status: 409, message: "Wallet Object Class 1.a already exists." });
    expect(classifyResponse(400, h(), '{"error":{"message":"x","status":"INVALID_ARGUMENT"}}', NOW)).toEqual({ kind: "failed", status: 400, message: "x", reason: "INVALID_ARGUMENT" });
    expect(classifyResponse(418, h(), "teapot", NOW)).toEqual({ kind: "failed", status: 418, message: "HTTP 418", reason: null });
    expect(classifyResponse(503, h({ "retry-after": "Mon, 01 Jun 2026 12:01:00 GMT" }), "", NOW)).toMatchObject({ kind: "retryable", retryAfterSeconds: 60 });
    expect(retryAfterSeconds("999999", NOW)).toBe(6 * 3600);
    expect(retryAfterSeconds("soon", NOW)).toBeNull();
    expect(retryAfterSeconds("-5", NOW)).toBeNull();
    expect([1, 2, 3, 4].map((a) => retryDelaySeconds(a, null, 0.5))).toEqual([10, 20, 40, 80]);
    expect(retryDelaySeconds(50, null, 0.5)).toBe(3600);
    expect(retryDelaySeconds(1, null, 0)).toBe(8);
    expect(retryDelaySeconds(1, null, 0.999)).toBe(12);
    expect(retryDelaySeconds(1, 120, 0.5)).toBe(120);
  });
});

describe("configuration", () => {
  it("defaults to the real Google endpoints and accepts overrides", () => {
    expect(googleConfig({})).toEqual(GOOGLE_DEFAULTS);
    expect(googleConfig({ GOOGLE_WALLET_API_URL: "http://127.0.0.1:9100/walletobjects/v1/", GOOGLE_CALLBACK_SENDER_ID: " " })).toEqual({
      ...GOOGLE_DEFAULTS,
      walletApiUrl: "http://127.0.0.1:9100/walletobjects/v1",
    });
  });
});

