/**
 * The workers tests do not depend on a developer's `.dev.vars` (or `.env`): wrangler loads those into
 * the test Worker, so vitest.config.ts pins every var the Worker reads. Here: every key of
 * wrangler.toml `[vars]` and of `.dev.vars.example` (commented-out lines too: the README tells
 * developers to enable them) is pinned, and the Worker sees exactly the pinned values. Before the
 * pinning, a `.dev.vars` with the README's Google lines pointed these tests at 127.0.0.1:9100.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import devVarsExample from "../.dev.vars.example?raw";
import wranglerToml from "../wrangler.toml?raw";

/** `KEY = "value"` lines of the `[vars]` table. */
function wranglerVarKeys(toml: string): string[] {
  const section = /^\[vars\]\s*$([\s\S]*?)^\[/m.exec(toml)?.[1] ?? "";
  return [...section.matchAll(/^([A-Z][A-Z0-9_]*)\s*=/gm)].map((m) => m[1]);
}

/** `KEY=value` lines, and `# KEY=value` ones (commented out, meant to be enabled). */
function devVarKeys(text: string): string[] {
  return [...new Set([...text.matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]))];
}

describe("test environment", () => {
  const pinned = env.TEST_PINNED_VARS;
  const seen = env as unknown as Record<string, unknown>;

  it("pins every var of wrangler.toml and .dev.vars.example", () => {
    const keys = [...wranglerVarKeys(wranglerToml), ...devVarKeys(devVarsExample)];
    expect(keys).toEqual(expect.arrayContaining(["PUBLIC_URL", "GOOGLE_WALLET_API_URL", "APNS_RELAY_URL", "MASTER_KEY"]));
    expect(keys.filter((k) => !(k in pinned))).toEqual([]);
  });

  it("the Worker sees the pinned values, whatever .dev.vars says", () => {
    // The production endpoints (the tests fake Google at the fetch boundary by these hosts) and no relay.
    expect(env.GOOGLE_WALLET_API_URL).toBe("https://walletobjects.googleapis.com/walletobjects/v1");
    expect(env.GOOGLE_OAUTH_TOKEN_URL).toBe("https://oauth2.googleapis.com/token");
    expect(env.GOOGLE_CALLBACK_KEYS_URL).toBe("https://pay.google.com/gp/m/issuer/keys");
    expect(env.GOOGLE_CALLBACK_SENDER_ID).toBe("GooglePayPasses");
    expect(env.APNS_RELAY_URL).toBe("");
    expect(env.PUBLIC_URL).toBe("https://passhook.test");
    expect(env.ALLOW_INSECURE_CALLBACKS).toBe("false");
    for (const [key, value] of Object.entries(pinned)) expect(seen[key], key).toBe(value);
  });
});
