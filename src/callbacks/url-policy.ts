/**
 * @module callbacks/url-policy
 * The SSRF guard for a customer's callback base URL: https only, no credentials, no query or fragment
 * (paths are appended to it), and no host that names a loopback, private, link-local, metadata or
 * otherwise special-purpose address (IANA IPv4/IPv6 Special-Purpose Address Registries, RFC 6890).
 * Pure: it looks only at the URL text. Hostnames are not resolved here, so a public name pointing at a
 * private address is left to the platform (Workers' fetch cannot reach private networks).
 */
import { err, ok, type Result } from "../lib/result";

export type UrlRejectionReason = "invalid_url" | "insecure_scheme" | "credentials" | "query_or_fragment" | "private_address";

export interface UrlRejection {
  reason: UrlRejectionReason;
  message: string;
}

/** Hosts exempt from https and from the private-address check when `allowInsecureLocal` is set (local development). */
const INSECURE_LOCAL_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** Names that resolve to the machine itself or to a cloud metadata service. */
const BLOCKED_NAMES = new Set(["localhost", "metadata.google.internal"]);
const BLOCKED_SUFFIXES = [".localhost", ".internal"];

/** IPv4 special-purpose blocks (RFC 6890 and the IANA registry), as [network, prefix length]. */
const IPV4_BLOCKED: ReadonlyArray<readonly [string, number]> = [
  ["0.0.0.0", 8], // "this network" (RFC 791)
  ["10.0.0.0", 8], // private (RFC 1918)
  ["100.64.0.0", 10], // carrier-grade NAT (RFC 6598)
  ["127.0.0.0", 8], // loopback (RFC 1122)
  ["169.254.0.0", 16], // link-local, incl. 169.254.169.254 metadata (RFC 3927)
  ["172.16.0.0", 12], // private (RFC 1918)
  ["192.0.0.0", 24], // IETF protocol assignments (RFC 6890)
  ["192.0.2.0", 24], // TEST-NET-1 (RFC 5737)
  ["192.88.99.0", 24], // 6to4 relay anycast, deprecated (RFC 7526)
  ["192.168.0.0", 16], // private (RFC 1918)
  ["198.18.0.0", 15], // benchmarking (RFC 2544)
  ["198.51.100.0", 24], // TEST-NET-2 (RFC 5737)
  ["203.0.113.0", 24], // TEST-NET-3 (RFC 5737)
  ["224.0.0.0", 4], // multicast (RFC 5771)
  ["240.0.0.0", 4], // reserved, incl. 255.255.255.255 broadcast (RFC 1112, RFC 919)
];

const IPV4_BLOCKED_PARSED = IPV4_BLOCKED.map(([net, len]) => ({ net: parseIPv4(net)!, mask: prefixMask(len) }));

/**
 * Checks a callback base URL and returns it normalized: `scheme://host[:port]/path` without a trailing
 * slash, so the caller can append `/path` segments.
 */
export function checkCallbackUrl(raw: string, opts: { allowInsecureLocal: boolean }): Result<string, UrlRejection> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return reject("invalid_url", "The callback URL is not a valid absolute URL.");
  }

  const local = opts.allowInsecureLocal && INSECURE_LOCAL_HOSTS.has(url.hostname);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && local)) {
    return reject("insecure_scheme", "The callback URL must use https.");
  }
  if (url.username !== "" || url.password !== "") {
    return reject("credentials", "The callback URL must not contain a username or password; use a header instead.");
  }
  // `https://a/b?` has an empty `search` but still a query, hence the look at the serialization too.
  if (url.search !== "" || url.hash !== "" || /[?#]/.test(url.href)) {
    return reject("query_or_fragment", "The callback URL must not contain a query string or fragment.");
  }
  if (!local && isPrivateHost(url.hostname)) {
    return reject("private_address", "The callback URL must not point at a local, private or reserved address.");
  }

  return ok(`${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, "")}`);
}

function reject(reason: UrlRejectionReason, message: string): Result<never, UrlRejection> {
  return err({ reason, message });
}

/**
 * Whether a WHATWG-serialized hostname is a blocked name or a special-purpose IP literal. The URL parser
 * has already turned decimal, hex and octal IPv4 spellings into dotted quads and compressed IPv6.
 */
function isPrivateHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.+$/, "");
  if (host.startsWith("[") && host.endsWith("]")) {
    const groups = parseIPv6(host.slice(1, -1));
    return groups === null || isPrivateIPv6(groups);
  }
  const v4 = parseIPv4(host);
  if (v4 !== null) return isPrivateIPv4(v4);
  return BLOCKED_NAMES.has(host) || BLOCKED_SUFFIXES.some((s) => host.endsWith(s));
}

function prefixMask(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

/** A dotted-quad IPv4 address as an unsigned 32-bit integer, or null. */
function parseIPv4(s: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(m[i]);
    if (octet > 255) return null;
    n = n * 256 + octet;
  }
  return n;
}

function isPrivateIPv4(ip: number): boolean {
  return IPV4_BLOCKED_PARSED.some(({ net, mask }) => ((ip & mask) >>> 0) === net);
}

/**
 * Parses IPv6 text (RFC 4291 §2.2: hex groups, one `::`, optional trailing dotted quad) into eight
 * 16-bit groups, or null when it is not valid.
 */
function parseIPv6(s: string): number[] | null {
  let text = s;
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(":");
  if (text.includes(".")) {
    const v4 = parseIPv4(text.slice(lastColon + 1));
    if (v4 === null || lastColon < 0) return null;
    tail.push(v4 >>> 16, v4 & 0xffff);
    // Keep a trailing "::" intact ("::1.2.3.4" -> "::"), otherwise drop the separating colon.
    text = text[lastColon - 1] === ":" ? text.slice(0, lastColon + 1) : text.slice(0, lastColon);
  }

  const halves = text.split("::");
  if (halves.length > 2) return null;
  const parseGroups = (part: string): number[] | null => {
    if (part === "") return [];
    const out: number[] = [];
    for (const g of part.split(":")) {
      if (!/^[0-9a-f]{1,4}$/i.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = parseGroups(halves[0]);
  const rest = halves.length === 2 ? parseGroups(halves[1]) : [];
  if (head === null || rest === null) return null;

  const explicit = head.length + rest.length + tail.length;
  if (halves.length === 1) return explicit === 8 ? [...head, ...tail] : null;
  if (explicit > 7) return null;
  return [...head, ...new Array<number>(8 - explicit).fill(0), ...rest, ...tail];
}

/** The IPv4 address held in the last 32 bits of an IPv6 address. */
function embeddedV4(g: number[]): number {
  return ((g[6] << 16) | g[7]) >>> 0;
}

function isPrivateIPv6(g: number[]): boolean {
  const zeroUpTo = (n: number) => g.slice(0, n).every((x) => x === 0);
  // ::/96 covers :: (unspecified), ::1 (loopback) and the deprecated IPv4-compatible ::a.b.c.d (RFC 4291 §2.5.5.1).
  if (zeroUpTo(6)) return true;
  // IPv4-mapped ::ffff:a.b.c.d (::ffff:0:0/96, RFC 4291 §2.5.5.2): judged by the embedded IPv4 address.
  if (zeroUpTo(5) && g[5] === 0xffff) return isPrivateIPv4(embeddedV4(g));
  // IPv4-translated ::ffff:0:a.b.c.d (::ffff:0:0:0/96, RFC 2765 SIIT): judged likewise.
  if (zeroUpTo(4) && g[4] === 0xffff && g[5] === 0) return isPrivateIPv4(embeddedV4(g));
  // NAT64 well-known prefix 64:ff9b::/96 (RFC 6052): judged by the embedded IPv4 address.
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return isPrivateIPv4(embeddedV4(g));
  // Local-use NAT64 64:ff9b:1::/48 (RFC 8215): translates into networks we cannot judge.
  if (g[0] === 0x64 && g[1] === 0xff9b && g[2] === 1) return true;
  // 6to4 2002::/16 (RFC 3056, deprecated by RFC 7526) and Teredo 2001::/32 (RFC 4380) tunnel to IPv4
  // addresses that are embedded (Teredo: obfuscated) in the address and relayed by third parties: a
  // tunnel endpoint we cannot judge, so the whole prefixes are refused.
  if (g[0] === 0x2002) return true;
  if (g[0] === 0x2001 && g[1] === 0x0000) return true;
  if (g[0] === 0x0100 && g[1] === 0 && g[2] === 0 && g[3] === 0) return true; // discard-only 100::/64 (RFC 6666)
  if (g[0] === 0x2001 && g[1] === 0x0002 && g[2] === 0) return true; // benchmarking 2001:2::/48 (RFC 5180)
  if (g[0] === 0x2001 && (g[1] & 0xfff0) === 0x0010) return true; // ORCHID 2001:10::/28 (RFC 4843)
  if (g[0] === 0x2001 && (g[1] & 0xfff0) === 0x0020) return true; // ORCHIDv2 2001:20::/28 (RFC 7343)
  if (g[0] === 0x3fff && (g[1] & 0xf000) === 0) return true; // documentation 3fff::/20 (RFC 9637)
  if (g[0] === 0x5f00) return true; // SRv6 SIDs 5f00::/16 (RFC 9602)
  if ((g[0] & 0xfe00) === 0xfc00) return true; // unique local fc00::/7, incl. fd00:ec2::254 (RFC 4193)
  if ((g[0] & 0xffc0) === 0xfe80) return true; // link-local fe80::/10 (RFC 4291)
  if ((g[0] & 0xff00) === 0xff00) return true; // multicast ff00::/8 (RFC 4291)
  if (g[0] === 0x2001 && g[1] === 0x0db8) return true; // documentation 2001:db8::/32 (RFC 3849)
  return false;
}
