/**
 * Callback policies as pure functions: the SSRF guard on callback URLs, the customer header policy,
 * Standard Webhooks signing (checked against the reference `standardwebhooks` library) and the Svix
 * retry schedule maths.
 */
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { checkCallbackHeaders } from "../src/callbacks/header-policy";
import {
  DEFAULT_RETRY_SCHEDULE,
  JITTER,
  MAX_QUEUE_DELAY_SECONDS,
  nextRetry,
  parseRetryAfter,
  parseRetrySchedule,
  RETRY_AFTER_CAP_SECONDS,
} from "../src/callbacks/retry";
import { newSigningSecret, signature, signatureHeader, verifySignatureHeader } from "../src/callbacks/signing";
import { checkCallbackUrl, type UrlRejectionReason } from "../src/callbacks/url-policy";

const STRICT = { allowInsecureLocal: false };
const LOCAL = { allowInsecureLocal: true };

function rejection(raw: string, opts = STRICT): UrlRejectionReason | "ok" {
  const r = checkCallbackUrl(raw, opts);
  return r.ok ? "ok" : r.error.reason;
}

describe("checkCallbackUrl", () => {
  it("accepts public hosts and normalizes away the trailing slash", () => {
    expect(checkCallbackUrl("https://example.com/cb", STRICT)).toEqual({ ok: true, value: "https://example.com/cb" });
    expect(checkCallbackUrl("https://example.com/hooks/", STRICT)).toEqual({ ok: true, value: "https://example.com/hooks" });
    expect(checkCallbackUrl("https://EXAMPLE.com", STRICT)).toEqual({ ok: true, value: "https://example.com" });
    expect(checkCallbackUrl("https://example.com:443/a/b//", STRICT)).toEqual({ ok: true, value: "https://example.com/a/b" });
    expect(checkCallbackUrl("https://example.com:8443/x", STRICT)).toEqual({ ok: true, value: "https://example.com:8443/x" });
    expect(checkCallbackUrl("https://93.184.216.34/cb", STRICT)).toEqual({ ok: true, value: "https://93.184.216.34/cb" });
    expect(checkCallbackUrl("https://[2606:4700::1111]/cb", STRICT)).toEqual({ ok: true, value: "https://[2606:4700::1111]/cb" });
    // Neighbours of blocked ranges are public.
    for (const host of ["9.255.255.255", "11.0.0.0", "100.63.255.255", "100.128.0.0", "172.15.255.255", "172.32.0.0", "192.167.255.255", "198.20.0.0", "223.255.255.255", "8.8.8.8", "1.1.1.1"]) {
      expect(rejection(`https://${host}/cb`), host).toBe("ok");
    }
    // IPv4-mapped and NAT64 forms of a public address are judged by that address.
    expect(rejection("https://[::ffff:8.8.8.8]/cb")).toBe("ok");
    expect(rejection("https://[64:ff9b::808:808]/cb")).toBe("ok");
    expect(rejection("https://localhost.example.com/cb")).toBe("ok");
  });

  it("rejects what is not an absolute URL", () => {
    for (const raw of ["", "example.com/cb", "/cb", "https://", "https://exa mple.com/", "https://[::1/", "https://999.1.1.1.1/"]) {
      expect(rejection(raw), raw).toBe("invalid_url");
    }
  });

  it("requires https", () => {
    expect(rejection("http://example.com/cb")).toBe("insecure_scheme");
    expect(rejection("http://example.com/cb", LOCAL)).toBe("insecure_scheme");
    expect(rejection("ftp://example.com/cb")).toBe("insecure_scheme");
    expect(rejection("javascript:alert(1)")).toBe("insecure_scheme");
    expect(rejection("file:///etc/passwd")).toBe("insecure_scheme");
    expect(rejection("ws://example.com/")).toBe("insecure_scheme");
  });

  it("allows http and https to 127.0.0.1, localhost and [::1] only with allowInsecureLocal", () => {
    expect(checkCallbackUrl("http://127.0.0.1:8080/x", LOCAL)).toEqual({ ok: true, value: "http://127.0.0.1:8080/x" });
    expect(checkCallbackUrl("http://localhost:3000", LOCAL)).toEqual({ ok: true, value: "http://localhost:3000" });
    expect(checkCallbackUrl("http://[::1]:3000/cb/", LOCAL)).toEqual({ ok: true, value: "http://[::1]:3000/cb" });
    expect(checkCallbackUrl("https://127.0.0.1:8443/x", LOCAL)).toEqual({ ok: true, value: "https://127.0.0.1:8443/x" });
    expect(checkCallbackUrl("https://localhost/x", LOCAL)).toEqual({ ok: true, value: "https://localhost/x" });

    expect(rejection("http://127.0.0.1:8080/x")).toBe("insecure_scheme");
    expect(rejection("http://localhost:3000")).toBe("insecure_scheme");
    expect(rejection("https://127.0.0.1:8080/x")).toBe("private_address");
    expect(rejection("https://localhost/x")).toBe("private_address");
    expect(rejection("https://[::1]/x")).toBe("private_address");
    // The exception is for loopback itself, not for other private addresses.
    expect(rejection("http://10.0.0.1/x", LOCAL)).toBe("insecure_scheme");
    expect(rejection("https://10.0.0.1/x", LOCAL)).toBe("private_address");
    expect(rejection("https://169.254.169.254/latest", LOCAL)).toBe("private_address");
    expect(rejection("https://127.0.0.2/x", LOCAL)).toBe("private_address");
  });

  it("rejects credentials without echoing them", () => {
    for (const raw of ["https://alice:hunter2@example.com/cb", "https://alice@example.com/cb", "https://:hunter2@example.com/cb"]) {
      const r = checkCallbackUrl(raw, STRICT);
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.error.reason).toBe("credentials");
        expect(r.error.message).not.toContain("hunter2");
        expect(r.error.message).not.toContain("alice");
      }
    }
  });

  it("rejects a query string or fragment", () => {
    for (const raw of ["https://example.com/cb?x=1", "https://example.com/cb?", "https://example.com/cb#frag", "https://example.com/cb#"]) {
      expect(rejection(raw), raw).toBe("query_or_fragment");
    }
  });

  it("rejects local and metadata host names", () => {
    for (const host of ["localhost", "LOCALHOST", "localhost.", "api.localhost", "metadata.google.internal", "metadata.google.internal.", "foo.internal", "ip-10-0-0-1.ec2.internal"]) {
      expect(rejection(`https://${host}/cb`), host).toBe("private_address");
    }
  });

  it("rejects every special-purpose IPv4 range", () => {
    const blocked = [
      "0.0.0.0", "0.255.255.255", // 0/8
      "10.0.0.1", "10.255.255.255", // 10/8
      "100.64.0.1", "100.127.255.255", // 100.64/10
      "127.0.0.1", "127.255.255.254", // 127/8
      "169.254.0.1", "169.254.169.254", // 169.254/16
      "172.16.0.1", "172.31.255.255", // 172.16/12
      "192.0.0.1", "192.0.0.255", // 192.0.0/24
      "192.0.2.1", // 192.0.2/24
      "192.88.99.1", // 6to4 relay anycast 192.88.99/24
      "192.168.0.1", "192.168.255.255", // 192.168/16
      "198.18.0.1", "198.19.255.255", // 198.18/15
      "198.51.100.7", // 198.51.100/24
      "203.0.113.9", // 203.0.113/24
      "224.0.0.1", "239.255.255.255", // 224/4
      "240.0.0.1", "255.255.255.255", // 240/4
    ];
    for (const ip of blocked) expect(rejection(`https://${ip}/cb`), ip).toBe("private_address");
  });

  it("rejects decimal, hex, octal and short IPv4 spellings of loopback and metadata", () => {
    for (const raw of [
      "https://2130706433/", // 127.0.0.1 as one decimal number
      "https://0x7f.1/", // hex, two parts
      "https://0x7f000001/", // hex, one part
      "https://017700000001/", // octal
      "https://0177.0.0.1/", // octal first octet
      "https://127.1/", // short form
      "https://0/", // 0.0.0.0
      "https://2852039166/", // 169.254.169.254
      "https://0xa9.0xfe.0xa9.0xfe/", // 169.254.169.254 in hex
      "https://0xA9FEA9FE/",
      "https://127.0.0.1./", // trailing dot
    ]) {
      expect(rejection(raw), raw).toBe("private_address");
    }
  });

  it("rejects special-purpose IPv6 literals, including embedded IPv4", () => {
    const blocked = [
      "::", "::1", "0:0:0:0:0:0:0:1",
      "fc00::1", "fd00::1", "fd00:ec2::254", "fdff:ffff::",
      "fe80::1", "febf::1",
      "ff02::1", "ff00::",
      "2001:db8::1", "2001:0db8:ffff::",
      "::ffff:127.0.0.1", "::ffff:7f00:1", "::ffff:a9fe:a9fe", "::ffff:169.254.169.254", "::ffff:10.0.0.1", "::ffff:192.168.1.1",
      "64:ff9b::7f00:1", "64:ff9b::127.0.0.1", "64:ff9b::a9fe:a9fe", "64:ff9b::10.1.2.3",
      "64:ff9b:1::808:808", // local-use NAT64
      "::127.0.0.1", "::8.8.8.8", "::a9fe:a9fe", // IPv4-compatible (deprecated)
      "2002:7f00:1::", "2002:a9fe:a9fe::1", // 6to4 of private IPv4
      "2002:808:808::1", "2002::", // 6to4 of any IPv4: a relayed tunnel endpoint (RFC 7526 deprecates it)
      "2001::1", "2001:0:4136:e378:8000:63bf:3fff:fdd2", // Teredo 2001::/32
      "::ffff:0:7f00:1", "::ffff:0:127.0.0.1", "::ffff:0:a9fe:a9fe", // IPv4-translated ::ffff:0:0:0/96
      "100::1", "2001:2::1", "2001:10::1", "2001:2f::1", "3fff::1", "3fff:fff::1", "5f00::1", // discard, benchmarking, ORCHID, documentation, SRv6
    ];
    for (const ip of blocked) expect(rejection(`https://[${ip}]/cb`), ip).toBe("private_address");
    expect(rejection("https://[::ffff:0:808:808]/cb")).toBe("ok"); // IPv4-translated public address
    expect(rejection("https://[2001:4860:4860::8888]/cb")).toBe("ok"); // public, outside Teredo's 2001::/32
    expect(rejection("https://[fec0::1]/cb")).toBe("ok"); // outside fe80::/10
    expect(rejection("https://[3fff:1000::1]/cb")).toBe("ok"); // outside 3fff::/20
    expect(rejection("https://[100:0:0:1::1]/cb")).toBe("ok"); // outside 100::/64
  });
});

describe("checkCallbackHeaders", () => {
  const ok = (input: unknown) => {
    const r = checkCallbackHeaders(input);
    if (!r.ok) throw new Error(`expected ok, got ${JSON.stringify(r.error)}`);
    return r.value;
  };
  const issues = (input: unknown) => {
    const r = checkCallbackHeaders(input);
    if (r.ok) throw new Error(`expected issues, got ${JSON.stringify(r.value)}`);
    return r.error;
  };

  it("treats undefined and null as no headers", () => {
    expect(ok(undefined)).toEqual({});
    expect(ok(null)).toEqual({});
    expect(ok({})).toEqual({});
  });

  it("keeps ordinary headers with their casing, Authorization included", () => {
    const auth = "Basic dXNlcjpwYXNzd29yZA==";
    expect(ok({ Authorization: auth, "X-Api-Key": "k1", "x-lower": "v", Cookie: "a=b" })).toEqual({
      Authorization: auth,
      "X-Api-Key": "k1",
      "x-lower": "v",
      Cookie: "a=b",
    });
    expect(ok({ "X-Tab": "a\tb", "X-Empty": "" })).toEqual({ "X-Tab": "a\tb", "X-Empty": "" });
  });

  it("rejects non-objects and non-string values", () => {
    for (const input of ["x", 1, true, [], [["a", "b"]], new Map()]) {
      expect(issues(input), String(input)).toEqual([{ path: "headers", message: expect.any(String) }]);
    }
    expect(issues({ "X-Num": 1, "X-Null": null, "X-Obj": {} }).map((i) => i.path)).toEqual(["headers.X-Num", "headers.X-Null", "headers.X-Obj"]);
  });

  it("rejects hop-by-hop, platform and reserved headers whatever their case", () => {
    const reserved = [
      "Connection", "keep-alive", "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Connection", "TE", "Trailer", "Trailers",
      "Transfer-Encoding", "Upgrade", "Host", "HOST", "Content-Length", "Expect", "Forwarded", "X-Real-IP",
      "webhook-id", "Webhook-Signature", "WEBHOOK-TIMESTAMP", "webhook-anything",
      "CF-Connecting-IP", "cf-ray", "X-Forwarded-For", "x-forwarded-proto",
    ];
    for (const name of reserved) {
      expect(issues({ [name]: "x" }), name).toEqual([{ path: `headers.${name}`, message: expect.stringContaining("reserved") }]);
    }
  });

  it("rejects CR, LF, NUL and other control characters in values", () => {
    for (const value of ["a\r\nX-Injected: 1", "a\nb", "a\rb", "a\u0000b", "a\u001fb", "a\u007fb"]) {
      expect(issues({ "X-Bad": value }), JSON.stringify(value)).toEqual([{ path: "headers.X-Bad", message: expect.any(String) }]);
    }
  });

  it("rejects names that are not tokens or too long", () => {
    for (const name of ["", "X Space", "X:Colon", "X-Ü", "X(paren)", "X\r\nY", "X@"]) {
      expect(issues({ [name]: "v" })[0].path, JSON.stringify(name)).toBe(`headers.${name}`);
    }
    expect(ok({ ["X".repeat(256)]: "v" })).toEqual({ ["X".repeat(256)]: "v" });
    expect(issues({ ["X".repeat(257)]: "v" })[0].message).toContain("256");
  });

  it("limits value length, header count and total size", () => {
    expect(ok({ "X-Long": "v".repeat(4096) })["X-Long"]).toHaveLength(4096);
    expect(issues({ "X-Long": "v".repeat(4097) })).toEqual([{ path: "headers.X-Long", message: expect.stringContaining("4096") }]);

    const twenty = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`X-H${i}`, "v"]));
    expect(Object.keys(ok(twenty))).toHaveLength(20);
    const many = { ...twenty, "X-H20": "v" };
    expect(issues(many)).toEqual([{ path: "headers", message: expect.stringContaining("20") }]);

    // Five 4000-byte values: each fine alone, 20000+ bytes together.
    const big = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`X-B${i}`, "v".repeat(4000)]));
    expect(issues(big)).toEqual([{ path: "headers", message: expect.stringContaining("16384") }]);
    // Four of them fit (16000 + names).
    const fits = Object.fromEntries(Array.from({ length: 4 }, (_, i) => [`X-B${i}`, "v".repeat(4000)]));
    expect(Object.keys(ok(fits))).toHaveLength(4);
    // Size counts UTF-8 bytes, not characters: 5 × 2000 "é" = 20000 bytes.
    const wide = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`X-W${i}`, "é".repeat(2000)]));
    expect(issues(wide)[0].path).toBe("headers");
  });

  it("drops Content-Type application/json and rejects any other Content-Type", () => {
    expect(ok({ "Content-Type": "application/json", "X-A": "1" })).toEqual({ "X-A": "1" });
    expect(ok({ "content-type": "application/json; charset=utf-8" })).toEqual({});
    expect(ok({ "CONTENT-TYPE": "Application/JSON;charset=UTF-8" })).toEqual({});
    for (const value of ["text/plain", "application/xml", "application/json; charset=latin1", "application/jsonx", "application/json\r\nX: y"]) {
      expect(issues({ "Content-Type": value }), value).toEqual([{ path: "headers.Content-Type", message: expect.any(String) }]);
    }
  });

  it("rejects names that differ only by case", () => {
    expect(issues({ "X-Token": "a", "x-token": "b" })).toEqual([{ path: "headers.x-token", message: expect.stringContaining("more than once") }]);
    expect(issues({ "Content-Type": "application/json", "content-type": "application/json" })[0].path).toBe("headers.content-type");
  });

  it("reports every problem at once", () => {
    expect(issues({ Host: "x", "X-Ok": "fine", "X-Bad": "a\nb", "X Sp": "v" }).map((i) => i.path)).toEqual(["headers.Host", "headers.X-Bad", "headers.X Sp"]);
  });

  it("keeps a header called __proto__ as a header", () => {
    const value = ok(JSON.parse('{"__proto__": "v"}'));
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.entries(value)).toEqual([["__proto__", "v"]]);
  });
});

describe("Standard Webhooks signing", () => {
  const body = JSON.stringify({ event: "pass.installed", pass: { id: 42, name: "Ünïcödé ✓" } });
  const msgId = "msg_2b8nqz7p3k";

  it("makes whsec_ secrets of 32 random bytes", () => {
    const a = newSigningSecret();
    const b = newSigningSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(atob(a.slice(6))).toHaveLength(32);
    expect(a).not.toBe(b);
  });

  it("matches the spec's test vector", async () => {
    // From the Standard Webhooks reference libraries' tests.
    const sig = await signature("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, '{"test": 2432232314}');
    expect(sig).toBe("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  });

  it("is verified by the standardwebhooks library", async () => {
    const secret = newSigningSecret();
    const ts = Math.floor(Date.now() / 1000);
    const header = await signatureHeader([secret], msgId, ts, body);
    expect(header).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    const parsed = new Webhook(secret).verify(body, { "webhook-id": msgId, "webhook-timestamp": String(ts), "webhook-signature": header });
    expect(parsed).toEqual(JSON.parse(body));
  });

  it("signs with every secret during a rotation, and each verifies alone", async () => {
    const next = newSigningSecret();
    const prev = newSigningSecret();
    const ts = Math.floor(Date.now() / 1000);
    const header = await signatureHeader([next, prev], msgId, ts, body);
    const parts = header.split(" ");
    expect(parts).toHaveLength(2);
    expect(parts[0]).toBe(await signature(next, msgId, ts, body));
    expect(parts[1]).toBe(await signature(prev, msgId, ts, body));
    const headers = { "webhook-id": msgId, "webhook-timestamp": String(ts), "webhook-signature": header };
    expect(new Webhook(next).verify(body, headers)).toEqual(JSON.parse(body));
    expect(new Webhook(prev).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(newSigningSecret()).verify(body, headers)).toThrow(/No matching signature/);
    expect(() => new Webhook(next).verify(`${body} `, headers)).toThrow(/No matching signature/);
    expect(() => new Webhook(next).verify(body, { ...headers, "webhook-id": "msg_other" })).toThrow(/No matching signature/);
  });

  it("refuses to sign without a secret", async () => {
    await expect(signatureHeader([], msgId, 1, body)).rejects.toThrow();
    await expect(signature("whsec_", msgId, 1, body)).rejects.toThrow(/empty/);
    await expect(signature("whsec_not base64!", msgId, 1, body)).rejects.toThrow(/base64/);
  });

  describe("verifySignatureHeader", () => {
    const secret = newSigningSecret();
    const now = 1_700_000_000;

    it("accepts our own signature, alone or among others", async () => {
      const header = await signatureHeader([secret], msgId, now, body);
      expect(await verifySignatureHeader(secret, msgId, String(now), body, header, now)).toBe(true);
      const rotated = await signatureHeader([newSigningSecret(), secret], msgId, now, body);
      expect(await verifySignatureHeader(secret, msgId, String(now), body, rotated, now)).toBe(true);
      expect(await verifySignatureHeader(secret, msgId, String(now), body, `v2,abc ${header} v1a,xyz`, now)).toBe(true);
    });

    it("rejects a tampered body, id or timestamp, and a wrong secret", async () => {
      const header = await signatureHeader([secret], msgId, now, body);
      expect(await verifySignatureHeader(secret, msgId, String(now), `${body} `, header, now)).toBe(false);
      expect(await verifySignatureHeader(secret, "msg_other", String(now), body, header, now)).toBe(false);
      expect(await verifySignatureHeader(secret, msgId, String(now + 1), body, header, now)).toBe(false);
      expect(await verifySignatureHeader(newSigningSecret(), msgId, String(now), body, header, now)).toBe(false);
      expect(await verifySignatureHeader(secret, msgId, String(now), body, "", now)).toBe(false);
      expect(await verifySignatureHeader(secret, msgId, String(now), body, header.replace("v1,", "v2,"), now)).toBe(false);
      expect(await verifySignatureHeader(secret, msgId, String(now), body, header.slice(3), now)).toBe(false);
    });

    it("enforces the 5-minute tolerance in both directions", async () => {
      const sign = (ts: number) => signatureHeader([secret], msgId, ts, body);
      expect(await verifySignatureHeader(secret, msgId, String(now - 300), body, await sign(now - 300), now)).toBe(true);
      expect(await verifySignatureHeader(secret, msgId, String(now + 300), body, await sign(now + 300), now)).toBe(true);
      expect(await verifySignatureHeader(secret, msgId, String(now - 301), body, await sign(now - 301), now)).toBe(false);
      expect(await verifySignatureHeader(secret, msgId, String(now + 301), body, await sign(now + 301), now)).toBe(false);
      expect(await verifySignatureHeader(secret, msgId, String(now - 3600), body, await sign(now - 3600), now)).toBe(false);
      // A custom tolerance.
      expect(await verifySignatureHeader(secret, msgId, String(now - 60), body, await sign(now - 60), now, 30)).toBe(false);
    });

    it("rejects malformed timestamps", async () => {
      const header = await signatureHeader([secret], msgId, now, body);
      for (const ts of ["", "abc", `${now}.0`, `-${now}`, ` ${now}`, "1e9"]) {
        expect(await verifySignatureHeader(secret, msgId, ts, body, header, now), ts).toBe(false);
      }
    });

    it("verifies what the standardwebhooks library signs", async () => {
      const ts = Math.floor(Date.now() / 1000);
      const theirs = new Webhook(secret).sign(msgId, new Date(ts * 1000), body);
      expect(await verifySignatureHeader(secret, msgId, String(ts), body, theirs, ts)).toBe(true);
    });
  });
});

describe("retry maths", () => {
  const base = { schedule: DEFAULT_RETRY_SCHEDULE, statusCode: 500, retryAfterSeconds: null, random: 0.5 };

  it("follows Svix's schedule exactly without jitter, for 8 attempts in all", () => {
    expect(DEFAULT_RETRY_SCHEDULE).toEqual([5, 300, 1800, 7200, 18000, 36000, 36000]);
    const delays = [1, 2, 3, 4, 5, 6, 7].map((tries) => nextRetry({ ...base, tries }));
    expect(delays).toEqual([5, 300, 1800, 7200, 18000, 36000, 36000].map((delaySeconds) => ({ retry: true, delaySeconds })));
    expect(nextRetry({ ...base, tries: 8 })).toEqual({ retry: false });
    expect(nextRetry({ ...base, tries: 20 })).toEqual({ retry: false });
    expect(nextRetry({ ...base, statusCode: null, tries: 1 })).toEqual({ retry: true, delaySeconds: 5 });
  });

  it("keeps jitter within ±20 %", () => {
    DEFAULT_RETRY_SCHEDULE.forEach((entry, i) => {
      const low = nextRetry({ ...base, tries: i + 1, random: 0 });
      const high = nextRetry({ ...base, tries: i + 1, random: 0.999999 });
      expect(low).toEqual({ retry: true, delaySeconds: Math.round(entry * (1 - JITTER)) });
      if (!high.retry) throw new Error("expected a retry");
      expect(high.delaySeconds).toBeGreaterThan(entry);
      expect(high.delaySeconds).toBeLessThanOrEqual(entry * (1 + JITTER));
      for (const random of [0.1, 0.3, 0.7, 0.9]) {
        const d = nextRetry({ ...base, tries: i + 1, random });
        if (!d.retry) throw new Error("expected a retry");
        expect(d.delaySeconds).toBeGreaterThanOrEqual(entry * 0.8);
        expect(d.delaySeconds).toBeLessThanOrEqual(entry * 1.2);
      }
    });
    expect(nextRetry({ ...base, tries: 1, random: 0 })).toEqual({ retry: true, delaySeconds: 4 });
    expect(nextRetry({ ...base, tries: 1, random: 0.999 })).toEqual({ retry: true, delaySeconds: 6 });
  });

  it("honours Retry-After on 429 and 503, capped at 6 h, never shortening the schedule", () => {
    expect(nextRetry({ ...base, tries: 1, statusCode: 429, retryAfterSeconds: 120 })).toEqual({ retry: true, delaySeconds: 120 });
    expect(nextRetry({ ...base, tries: 1, statusCode: 503, retryAfterSeconds: 3600 })).toEqual({ retry: true, delaySeconds: 3600 });
    expect(nextRetry({ ...base, tries: 1, statusCode: 429, retryAfterSeconds: 7 * 86400 })).toEqual({ retry: true, delaySeconds: RETRY_AFTER_CAP_SECONDS });
    expect(RETRY_AFTER_CAP_SECONDS).toBe(21600);
    // A shorter Retry-After does not bring a retry forward.
    expect(nextRetry({ ...base, tries: 3, statusCode: 429, retryAfterSeconds: 10 })).toEqual({ retry: true, delaySeconds: 1800 });
    expect(nextRetry({ ...base, tries: 1, statusCode: 429, retryAfterSeconds: 0 })).toEqual({ retry: true, delaySeconds: 5 });
    // It does not buy retries beyond the schedule either.
    expect(nextRetry({ ...base, tries: 8, statusCode: 503, retryAfterSeconds: 60 })).toEqual({ retry: false });
  });

  it("ignores Retry-After on other statuses", () => {
    for (const statusCode of [500, 502, 504, 408, 200, null]) {
      expect(nextRetry({ ...base, tries: 1, statusCode, retryAfterSeconds: 3600 }), String(statusCode)).toEqual({ retry: true, delaySeconds: 5 });
    }
  });

  it("clamps delays to what Cloudflare Queues accept", () => {
    expect(MAX_QUEUE_DELAY_SECONDS).toBe(86_400);
    expect(nextRetry({ ...base, schedule: [100_000], tries: 1 })).toEqual({ retry: true, delaySeconds: 86_400 });
    expect(nextRetry({ ...base, schedule: [80_000], tries: 1, random: 0.999 })).toEqual({ retry: true, delaySeconds: 86_400 });
    expect(nextRetry({ ...base, schedule: [0, 0], tries: 2, random: 0 })).toEqual({ retry: true, delaySeconds: 0 });
    expect(nextRetry({ ...base, schedule: [0, 0], tries: 3 })).toEqual({ retry: false });
  });

  it("rejects a tries count below 1", () => {
    expect(() => nextRetry({ ...base, tries: 0 })).toThrow(RangeError);
    expect(() => nextRetry({ ...base, tries: 1.5 })).toThrow(RangeError);
  });

  describe("parseRetryAfter", () => {
    const now = Date.UTC(2025, 0, 15, 12, 0, 0);

    it("reads delta-seconds", () => {
      expect(parseRetryAfter("120", now)).toBe(120);
      expect(parseRetryAfter(" 0 ", now)).toBe(0);
      expect(parseRetryAfter("86400", now)).toBe(86400);
    });

    it("reads the three HTTP-date forms, rounding up and never negative", () => {
      expect(parseRetryAfter("Wed, 15 Jan 2025 12:05:00 GMT", now)).toBe(300);
      expect(parseRetryAfter("Wednesday, 15-Jan-25 12:05:00 GMT", now)).toBe(300);
      expect(parseRetryAfter("Wed Jan 15 12:05:00 2025", now)).toBe(300);
      expect(parseRetryAfter("Thu Jan  2 12:00:00 2025", now)).toBe(0);
      expect(parseRetryAfter("wed, 15 jan 2025 13:00:00 gmt", now)).toBe(3600);
      expect(parseRetryAfter("Wed, 15 Jan 2025 12:00:01 GMT", now - 500)).toBe(2); // 1.5 s -> 2
      expect(parseRetryAfter("Tue, 14 Jan 2025 12:00:00 GMT", now)).toBe(0);
      expect(parseRetryAfter(new Date(now + 90_000).toUTCString(), now)).toBe(90);
    });

    it("returns null when absent or malformed", () => {
      for (const v of [null, undefined, "", "  ", "soon", "-5", "1.5", "1e3", "2025-01-15", "2025-01-15T12:05:00Z", "Wed, 15 Foo 2025 12:05:00 GMT", "Wed, 32 Jan 2025 12:05:00 GMT", "Wed, 15 Jan 2025 25:05:00 GMT"]) {
        expect(parseRetryAfter(v, now), String(v)).toBeNull();
      }
    });
  });

  describe("parseRetrySchedule", () => {
    it("defaults when unset or empty", () => {
      expect(parseRetrySchedule(undefined)).toEqual([...DEFAULT_RETRY_SCHEDULE]);
      expect(parseRetrySchedule(null)).toEqual([...DEFAULT_RETRY_SCHEDULE]);
      expect(parseRetrySchedule("")).toEqual([...DEFAULT_RETRY_SCHEDULE]);
      expect(parseRetrySchedule("   ")).toEqual([...DEFAULT_RETRY_SCHEDULE]);
      // A copy: changing it does not change the default.
      parseRetrySchedule(undefined).push(1);
      expect(DEFAULT_RETRY_SCHEDULE).toHaveLength(7);
    });

    it("reads comma-separated non-negative integers", () => {
      expect(parseRetrySchedule("0,0,0,0,0,0,0")).toEqual([0, 0, 0, 0, 0, 0, 0]);
      expect(parseRetrySchedule("5")).toEqual([5]);
      expect(parseRetrySchedule(" 5, 60 ,3600 ")).toEqual([5, 60, 3600]);
      expect(parseRetrySchedule(Array(20).fill("1").join(","))).toHaveLength(20);
    });

    it("throws on anything else", () => {
      for (const raw of ["5,,60", "5,", ",5", "-1", "1.5", "abc", "5;60", "1e3", "0x10", Array(21).fill("1").join(",")]) {
        expect(() => parseRetrySchedule(raw), raw).toThrow(/^CALLBACK_RETRY_SCHEDULE/);
      }
    });
  });
});
