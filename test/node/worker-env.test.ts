/**
 * Node tests that run the Worker (support/worker.ts) do not depend on a developer's `.dev.vars`:
 * wrangler's harness loads it, so every var the Worker reads is given explicitly. Checked here: each
 * key of wrangler.toml `[vars]` and of `.dev.vars.example` (commented-out lines too: the README tells
 * developers to enable them) is pinned, with the test values for the ones tests rely on.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { fromRoot } from "./support/repo";
import { TEST_SECRETS, TEST_VARS } from "./support/worker";

describe("the node tests' Worker environment", () => {
  it("pins every var of wrangler.toml and .dev.vars.example", () => {
    const toml = readFileSync(fromRoot("wrangler.toml"), "utf8");
    const section = /^\[vars\]\s*$([\s\S]*?)^\[/m.exec(toml)?.[1] ?? "";
    const tomlKeys = [...section.matchAll(/^([A-Z][A-Z0-9_]*)\s*=/gm)].map((m) => m[1]);
    const exampleKeys = [...readFileSync(fromRoot(".dev.vars.example"), "utf8").matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]);
    expect(tomlKeys).toEqual(expect.arrayContaining(["PUBLIC_URL", "GOOGLE_WALLET_API_URL", "APNS_RELAY_URL"]));
    const pinned = { ...TEST_VARS, ...TEST_SECRETS };
    expect([...tomlKeys, ...exampleKeys].filter((k) => !(k in pinned))).toEqual([]);
    expect(TEST_VARS).toMatchObject({
      PUBLIC_URL: "",
      APNS_RELAY_URL: "",
      GOOGLE_WALLET_API_URL: "https://walletobjects.googleapis.com/walletobjects/v1",
      GOOGLE_CALLBACK_KEYS_URL: "https://pay.google.com/gp/m/issuer/keys",
    });
  });
});
