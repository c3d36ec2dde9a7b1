/**
 * @module lib/client
 * The key a per-address limit counts under. Cloudflare sets `cf-connecting-ip` on every request from
 * the internet (overwriting a client's own). An IPv4 address is used whole; an IPv6 address by its
 * /64, the block one subscriber or host is given, since one host can send from 2^64 addresses.
 */
export function clientKey(ip: string | null | undefined): string | undefined {
  if (!ip) return undefined;
  if (!ip.includes(":")) return ip;
  // An IPv4 address written as IPv6 (::ffff:1.2.3.4) is that IPv4 address.
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (mapped) return mapped[1];
  const [head, tail = ""] = ip.toLowerCase().split("::");
  const left = head ? head.split(":") : [];
  const right = ip.includes("::") && tail ? tail.split(":") : [];
  // An embedded IPv4 tail (::ffff:1.2.3.4) takes two groups' room; only the first four groups matter.
  const groups = [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => (g.replace(/^0+(?=.)/, "") || "0"))
    .join(":")}::/64`;
}
