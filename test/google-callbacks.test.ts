/**
 * Google Wallet save/delete callbacks (google-wallet.md §5): ECv2SigningOnly verification against a
 * throwaway root -> intermediate -> message chain made here with WebCrypto (scripts/lib/google-chain.ts,
 * whose DER encoder is independent of the verifier's decoder), and the root-keys download cache.
 * Google is faked at the fetch boundary only for the keys URL.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { newEcKey, newIntermediate, rawToDer, rootKeysDocument, signedCallbackBody, type Intermediate, type KeyPairB64 } from "../scripts/lib/google-chain";
import { DEFAULT_SENDER_ID, verifyCallback, type CallbackFailureReason } from "../src/google/callback-verify";
import { derToRaw, lengthValue } from "../src/google/ecdsa";
import { cacheTtlMs, clearRootKeyCache, DEFAULT_KEYS_TTL_MS, getRootKeys, parseRootKeys, usableRootKeys, type RootKey } from "../src/google/root-keys";

const ISSUER = "3388000000022141777";
const OTHER_ISSUER = "3388000000099999999";
const NOW = Date.UTC(2026, 5, 1, 12, 0, 0);
const DAY = 86_400_000;
const classId = `${ISSUER}.prj_demo.t1`;
const objectId = `${ISSUER}.prj_demo.p42`;

let root: KeyPairB64;
let otherRoot: KeyPairB64;
let intermediate: Intermediate;
let rootKeys: RootKey[];

beforeAll(async () => {
  root = await newEcKey();
  otherRoot = await newEcKey();
  intermediate = await newIntermediate(root.privateKey, { senderId: DEFAULT_SENDER_ID, keyExpirationMs: NOW + 7 * DAY });
  rootKeys = rootKeysDocument(root.publicKeyB64, NOW + 365 * DAY).keys;
});

function message(over: Partial<{ classId: string; objectId: string; eventType: "save" | "del"; expTimeMillis: number; nonce: string }> = {}) {
  return { classId, objectId, eventType: "save" as const, expTimeMillis: NOW + 60_000, nonce: crypto.randomUUID(), ...over };
}

async function body(opts: { msg?: ReturnType<typeof message> | string; inter?: Intermediate; recipient?: string; sender?: string; protocol?: string } = {}) {
  return signedCallbackBody({
    intermediate: opts.inter ?? intermediate,
    senderId: opts.sender ?? DEFAULT_SENDER_ID,
    recipientId: opts.recipient ?? ISSUER,
    message: opts.msg ?? message(),
    protocolVersion: opts.protocol,
  });
}

const verify = (b: string, over: Partial<Parameters<typeof verifyCallback>[0]> = {}) =>
  verifyCallback({ body: b, rootKeys, senderIds: [DEFAULT_SENDER_ID], recipientId: ISSUER, now: NOW, ...over });

async function reason(b: string, over: Partial<Parameters<typeof verifyCallback>[0]> = {}): Promise<CallbackFailureReason | "ok"> {
  const r = await verify(b, over);
  return r.ok ? "ok" : r.error.reason;
}

describe("verifyCallback: valid chains", () => {
  it("accepts a signed save and returns the message with its nonce", async () => {
    const msg = message({ nonce: "6b0d4c4e-1111-4a17-8b39-89d2d7f48e3b" });
    const r = await verify(await body({ msg }));
    expect(r).toEqual({
      ok: true,
      value: { classId, objectId, eventType: "save", expTimeMillis: msg.expTimeMillis, nonce: msg.nonce, count: 1, senderId: DEFAULT_SENDER_ID },
    });
  });

  it("accepts a signed del", async () => {
    const r = await verify(await body({ msg: message({ eventType: "del" }) }));
    expect(r.ok && r.value.eventType).toBe("del");
  });

  it("normalises an upper-case event type (one library models SAVE/DEL)", async () => {
    const raw = JSON.stringify({ ...message(), eventType: "SAVE" });
    const r = await verify(await body({ msg: raw }));
    expect(r.ok && r.value.eventType).toBe("save");
  });

  it("verifies over the exact strings received: escapes inside signedKey are kept", async () => {
    // Google's signedKey carries `\u003d` escapes; re-serialising it would break the signature.
    const key = await newEcKey();
    const signedKey = JSON.stringify({ keyValue: key.publicKeyB64, keyExpiration: String(NOW + DAY) }).replace(/=/g, "\\u003d");
    const { signDerB64, lv } = await import("../scripts/lib/google-chain");
    const inter: Intermediate = { privateKey: key.privateKey, signedKey, signatures: [await signDerB64(root.privateKey, lv(DEFAULT_SENDER_ID, "ECv2SigningOnly", signedKey))] };
    expect(signedKey).toContain("\\u003d");
    expect(await reason(await body({ inter }))).toBe("ok");
  });

  it("accepts when any one of several intermediate signatures verifies, under any of several root keys", async () => {
    const inter = { ...intermediate, signatures: ["MEUCIQD3IATpRM45gpno9Remtx/FiDCOJUp45+C+Qzw6IrgphwIgJijXISc+Ft8Sj9eXNowzuYyXyWlgKAE+tVnN24Sek5M=", ...intermediate.signatures] };
    const keys = [...rootKeysDocument(otherRoot.publicKeyB64, NOW + DAY).keys, ...rootKeys];
    expect(await reason(await body({ inter }), { rootKeys: keys })).toBe("ok");
  });

  it("tries the configured sender ids in order (GoogleWalletPasses as a fallback)", async () => {
    const inter = await newIntermediate(root.privateKey, { senderId: "GoogleWalletPasses", keyExpirationMs: NOW + DAY });
    const b = await body({ inter, sender: "GoogleWalletPasses" });
    expect(await reason(b)).toBe("intermediate_signature");
    const r = await verify(b, { senderIds: [DEFAULT_SENDER_ID, "GoogleWalletPasses"] });
    expect(r.ok && r.value.senderId).toBe("GoogleWalletPasses");
  });
});

describe("verifyCallback: rejections", () => {
  it("a tampered message fails the message signature", async () => {
    const b = JSON.parse(await body({ msg: message({ eventType: "save" }) }));
    b.signedMessage = b.signedMessage.replace('"save"', '"del"');
    expect(await reason(JSON.stringify(b))).toBe("message_signature");
  });

  it("a tampered signature fails", async () => {
    const b = JSON.parse(await body());
    const other = JSON.parse(await body());
    b.signature = other.signature; // a valid signature, over another message
    expect(await reason(JSON.stringify(b))).toBe("message_signature");
    b.signature = "not base64!";
    expect(await reason(JSON.stringify(b))).toBe("message_signature");
  });

  it("a tampered intermediate key fails the intermediate signature", async () => {
    const b = JSON.parse(await body());
    const k = JSON.parse(b.intermediateSigningKey.signedKey);
    b.intermediateSigningKey.signedKey = JSON.stringify({ ...k, keyExpiration: String(NOW + 1000 * DAY) });
    expect(await reason(JSON.stringify(b))).toBe("intermediate_signature");
  });

  it("a message signed for another issuer is wrong_recipient", async () => {
    const msg = message({ classId: `${OTHER_ISSUER}.x.t1`, objectId: `${OTHER_ISSUER}.x.p1` });
    expect(await reason(await body({ msg, recipient: OTHER_ISSUER }))).toBe("wrong_recipient");
    // Signed for another recipient but claiming our ids: only the signature can tell.
    expect(await reason(await body({ recipient: OTHER_ISSUER }))).toBe("message_signature");
  });

  it("a message for us that names another issuer's object is wrong_recipient", async () => {
    expect(await reason(await body({ msg: message({ objectId: `${OTHER_ISSUER}.prj_demo.p42` }) }))).toBe("wrong_recipient");
  });

  it("an expired intermediate key is rejected even though its signature is good", async () => {
    const inter = await newIntermediate(root.privateKey, { senderId: DEFAULT_SENDER_ID, keyExpirationMs: NOW - 1 });
    expect(await reason(await body({ inter }))).toBe("intermediate_expired");
    const edge = await newIntermediate(root.privateKey, { senderId: DEFAULT_SENDER_ID, keyExpirationMs: NOW });
    expect(await reason(await body({ inter: edge }))).toBe("intermediate_expired");
  });

  it("an expired message is rejected", async () => {
    expect(await reason(await body({ msg: message({ expTimeMillis: NOW - 1 }) }))).toBe("message_expired");
    expect(await reason(await body({ msg: message({ expTimeMillis: NOW + 1 }) }))).toBe("ok");
  });

  it("a chain from an unknown root key is rejected", async () => {
    const inter = await newIntermediate(otherRoot.privateKey, { senderId: DEFAULT_SENDER_ID, keyExpirationMs: NOW + DAY });
    expect(await reason(await body({ inter }))).toBe("intermediate_signature");
  });

  it("root keys of another protocol, expired or without expiration are not used", async () => {
    const b = await body();
    expect(await reason(b, { rootKeys: rootKeysDocument(root.publicKeyB64, NOW + DAY, "ECv2").keys })).toBe("no_root_keys");
    expect(await reason(b, { rootKeys: rootKeysDocument(root.publicKeyB64, NOW).keys })).toBe("no_root_keys");
    expect(await reason(b, { rootKeys: [{ keyValue: root.publicKeyB64, protocolVersion: "ECv2SigningOnly" }] })).toBe("no_root_keys");
    expect(await reason(b, { rootKeys: [{ keyValue: "bm90IGEga2V5", protocolVersion: "ECv2SigningOnly", keyExpiration: String(NOW + DAY) }] })).toBe("no_root_keys");
    expect(await reason(b, { rootKeys: [] })).toBe("no_root_keys");
  });

  it("another protocol version is rejected before any crypto", async () => {
    expect(await reason(await body({ protocol: "ECv2" }))).toBe("unsupported_protocol");
    expect(await reason(await body({ protocol: "ECv1" }))).toBe("unsupported_protocol");
  });

  it("malformed envelopes are bad_json", async () => {
    const good = JSON.parse(await body());
    const cases: string[] = [
      "",
      "not json",
      "[]",
      "null",
      JSON.stringify({ ...good, signature: 1 }),
      JSON.stringify({ ...good, signedMessage: { a: 1 } }),
      JSON.stringify({ ...good, intermediateSigningKey: null }),
      JSON.stringify({ ...good, intermediateSigningKey: { signedKey: good.intermediateSigningKey.signedKey, signatures: [] } }),
      JSON.stringify({ ...good, intermediateSigningKey: { signedKey: good.intermediateSigningKey.signedKey, signatures: [1] } }),
      JSON.stringify({ ...good, junk: "x".repeat(20_000) }),
    ];
    for (const c of cases) expect(await reason(c), c.slice(0, 60)).toBe("bad_json");
  });

  it("a validly signed but malformed message is bad_message", async () => {
    for (const raw of [
      "not json",
      JSON.stringify({ ...message(), eventType: "update" }),
      JSON.stringify({ ...message(), nonce: "" }),
      JSON.stringify({ ...message(), expTimeMillis: "1759331348143" }),
      JSON.stringify({ classId, objectId, eventType: "save", expTimeMillis: NOW + 1000 }),
    ]) {
      expect(await reason(await body({ msg: raw })), raw).toBe("bad_message");
    }
  });

  it("a signed intermediate key that is not a P-256 key is bad_intermediate_key", async () => {
    const { signDerB64, lv } = await import("../scripts/lib/google-chain");
    for (const signedKey of ['{"keyValue":"bm90IGEga2V5","keyExpiration":"9999999999999"}', `{"keyValue":"${root.publicKeyB64}"}`, "[]"]) {
      const inter: Intermediate = { privateKey: intermediate.privateKey, signedKey, signatures: [await signDerB64(root.privateKey, lv(DEFAULT_SENDER_ID, "ECv2SigningOnly", signedKey))] };
      expect(await reason(await body({ inter })), signedKey).toBe("bad_intermediate_key");
    }
  });
});

describe("ECDSA byte helpers", () => {
  it("LV is a 4-byte little-endian length of the UTF-8 bytes, then the bytes", () => {
    expect([...lengthValue("ab", "é")]).toEqual([2, 0, 0, 0, 0x61, 0x62, 2, 0, 0, 0, 0xc3, 0xa9]);
    expect([...lengthValue("")]).toEqual([0, 0, 0, 0]);
    const long = lengthValue("x".repeat(300));
    expect([...long.subarray(0, 4)]).toEqual([44, 1, 0, 0]);
  });

  it("DER <-> raw: leading zero padding, short integers, and rejection of malformed encodings", () => {
    const raw = new Uint8Array(64);
    raw[0] = 0x80; // r needs a 0x00 pad in DER
    raw[31] = 1;
    raw[63] = 7; // s is a one-byte integer after stripping
    const der = rawToDer(raw);
    expect([...der.subarray(0, 5)]).toEqual([0x30, der.length - 2, 0x02, 33, 0x00]);
    expect(derToRaw(der)).toEqual(raw);

    const bad = (bytes: number[]) => derToRaw(new Uint8Array(bytes));
    expect(bad([])).toBeNull();
    expect(bad([0x31, 6, 2, 1, 1, 2, 1, 1])).toBeNull(); // not a SEQUENCE
    expect(bad([0x30, 6, 2, 1, 1, 2, 1, 1, 0])).toBeNull(); // trailing byte
    expect(bad([0x30, 7, 2, 1, 1, 2, 1, 1])).toBeNull(); // length overruns
    expect(bad([0x30, 6, 2, 1, 0x81, 2, 1, 1])).toBeNull(); // negative r
    expect(bad([0x30, 6, 2, 0, 2, 2, 1, 1])).toBeNull(); // empty integer
    expect(bad([0x30, 37, 2, 33, 1, ...new Array(32).fill(1), 2, 1, 1])).toBeNull(); // r longer than 32 bytes
    expect(bad([0x30, 6, 2, 1, 5, 2, 1, 9])).toEqual(new Uint8Array([...new Array(31).fill(0), 5, ...new Array(31).fill(0), 9]));
  });
});

describe("root keys", () => {
  afterEach(() => {
    vi.restoreAllMocks();
    clearRootKeyCache();
  });

  const URL_ = "https://keys.google.test/gp/m/issuer/keys";
  const doc = () => rootKeysDocument(root.publicKeyB64, NOW + 365 * DAY);

  function keysServer(headers: () => Record<string, string> = () => ({ "cache-control": "public, max-age=3600" }), status = () => 200) {
    return vi.spyOn(globalThis, "fetch").mockImplementation(async (input) => {
      expect(new Request(input as RequestInfo).url).toBe(URL_);
      const s = status();
      return s === 200 ? Response.json(doc(), { headers: headers() }) : new Response("unavailable", { status: s });
    });
  }

  it("parses the published format leniently and keeps only usable ECv2SigningOnly keys", () => {
    const parsed = parseRootKeys({
      keys: [
        { keyValue: "a", protocolVersion: "ECv1" },
        { keyValue: "b", protocolVersion: "ECv2SigningOnly", keyExpiration: String(NOW + 1) },
        { keyValue: "c", protocolVersion: "ECv2SigningOnly", keyExpiration: String(NOW) },
        { keyValue: 5, protocolVersion: "ECv2SigningOnly" },
        null,
      ],
    });
    expect(parsed.map((k) => k.keyValue)).toEqual(["a", "b", "c"]);
    expect(usableRootKeys(parsed, NOW).map((k) => k.keyValue)).toEqual(["b"]);
    expect(parseRootKeys(null)).toEqual([]);
    expect(parseRootKeys({ keys: "x" })).toEqual([]);
  });

  it("computes the cache lifetime from Cache-Control max-age minus Age", () => {
    expect(cacheTtlMs("public, max-age=3600", null)).toBe(3_600_000);
    expect(cacheTtlMs("max-age=3600", "600")).toBe(3_000_000);
    expect(cacheTtlMs("max-age=60", "600")).toBe(0);
    expect(cacheTtlMs("no-store", null)).toBe(0);
    expect(cacheTtlMs("private, no-cache", null)).toBe(0);
    expect(cacheTtlMs(null, null)).toBe(DEFAULT_KEYS_TTL_MS);
    expect(cacheTtlMs("max-age=99999999", null)).toBe(86_400_000);
  });

  it("fetches once, serves from cache until max-age passes, then refetches", async () => {
    const spy = keysServer();
    const k1 = await getRootKeys(URL_, { now: NOW });
    const k2 = await getRootKeys(URL_, { now: NOW + 3_599_000 });
    expect(k1).toEqual(doc().keys);
    expect(k2).toEqual(k1);
    expect(spy).toHaveBeenCalledTimes(1);
    await getRootKeys(URL_, { now: NOW + 3_600_000 });
    expect(spy).toHaveBeenCalledTimes(2);
  });

  it("shares one download between concurrent callers", async () => {
    const spy = keysServer();
    const all = await Promise.all(Array.from({ length: 10 }, () => getRootKeys(URL_, { now: NOW })));
    expect(all.every((k) => k.length === 1)).toBe(true);
    expect(spy).toHaveBeenCalledTimes(1);
  });

  it("refetches every time under no-store, and a forced refresh at most once a minute", async () => {
    const spy = keysServer(() => ({ "cache-control": "no-store" }));
    await getRootKeys(URL_, { now: NOW });
    await getRootKeys(URL_, { now: NOW + 1 });
    expect(spy).toHaveBeenCalledTimes(2);
    spy.mockRestore();
    clearRootKeyCache();

    const cached = keysServer();
    await getRootKeys(URL_, { now: NOW });
    await getRootKeys(URL_, { now: NOW + 1000, forceRefresh: true });
    expect(cached).toHaveBeenCalledTimes(1);
    await getRootKeys(URL_, { now: NOW + 61_000, forceRefresh: true });
    expect(cached).toHaveBeenCalledTimes(2);
  });

  it("falls back to a stale copy when Google fails, and fails without one", async () => {
    let status = 503;
    keysServer(undefined, () => status);
    await expect(getRootKeys(URL_, { now: NOW })).rejects.toThrow("503");
    status = 200;
    const fresh = await getRootKeys(URL_, { now: NOW });
    status = 500;
    expect(await getRootKeys(URL_, { now: NOW + 2 * 3_600_000 })).toEqual(fresh);
  });

  it("the downloaded keys verify a callback end to end", async () => {
    keysServer();
    const keys = await getRootKeys(URL_, { now: NOW });
    expect(await reason(await body(), { rootKeys: keys })).toBe("ok");
  });
});
