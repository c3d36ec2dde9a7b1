/**
 * @module dashboard/holder/platform
 * Which wallet button goes first (pure): Apple's for iPhone, iPad and Mac visitors, Google's for
 * Android, Apple's otherwise. Decided on the server from the User-Agent, so it works without script.
 */
export type Wallet = "apple" | "google";

export function walletOrder(userAgent: string | undefined): Wallet[] {
  const ua = userAgent ?? "";
  if (/Android/i.test(ua)) return ["google", "apple"];
  return ["apple", "google"];
}
