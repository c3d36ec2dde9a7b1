/**
 * `npm start`'s `.dev.vars` step (scripts/lib/dev-vars.ts), on the README's path: a developer who adds
 * the Google lines before the first `npm start` has a `.dev.vars` without MASTER_KEY; start then adds
 * every key of `.dev.vars.example` the file lacks, and never changes a line that is there.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { devVarKeys, prepareDevVars } from "../../scripts/lib/dev-vars";
import { fromRoot } from "./support/repo";

const dir = mkdtempSync(path.join(tmpdir(), "passhook-devvars-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const example = fromRoot(".dev.vars.example");
const exampleText = readFileSync(example, "utf8");

const GOOGLE_LINES = `PUBLIC_URL=http://127.0.0.1:8787
GOOGLE_WALLET_API_URL=http://127.0.0.1:9100/walletobjects/v1
GOOGLE_OAUTH_TOKEN_URL=http://127.0.0.1:9100/token
GOOGLE_CALLBACK_KEYS_URL=http://127.0.0.1:9100/gp/m/issuer/keys
GOOGLE_CALLBACK_SENDER_ID=GooglePayPasses`;

describe("npm start's .dev.vars", () => {
  it("copies the example when there is none", () => {
    const file = path.join(dir, "fresh.dev.vars");
    expect(prepareDevVars(file, example)).toEqual({ created: true });
    expect(readFileSync(file, "utf8")).toBe(exampleText);
  });

  it("adds the example's missing keys to a .dev.vars made by hand from the README's Google lines, changing nothing there", () => {
    const file = path.join(dir, "google.dev.vars");
    writeFileSync(file, GOOGLE_LINES); // no trailing newline, as an editor may leave it
    const r = prepareDevVars(file, example);
    expect(r).toEqual({ created: false, added: ["ADMIN_TOKEN", "MASTER_KEY", "ALLOW_INSECURE_CALLBACKS", "ALLOW_CUSTOM_APNS_HOST", "CALLBACK_RETRY_SCHEDULE"] });
    const text = readFileSync(file, "utf8");
    expect(text.startsWith(`${GOOGLE_LINES}\n`)).toBe(true);
    expect(text).toMatch(/^MASTER_KEY=\S+$/m);
    // Every key the example sets is now set, each once.
    const lines = text.split("\n").filter((l) => /^[A-Z_]+=/.test(l));
    expect(new Set(lines.map((l) => l.split("=")[0])).size).toBe(lines.length);
    for (const key of devVarKeys(exampleText)) expect(devVarKeys(text).has(key), key).toBe(true);
    // Nothing more to add next time.
    expect(prepareDevVars(file, example)).toEqual({ created: false, added: [] });
    expect(readFileSync(file, "utf8")).toBe(text);
  });

  it("never overwrites a value the developer set", () => {
    const file = path.join(dir, "custom.dev.vars");
    writeFileSync(file, "# mine\nADMIN_TOKEN=my-own-token\nexport MASTER_KEY=bXkta2V5\n");
    const r = prepareDevVars(file, example);
    expect(r.created === false && r.added).toEqual(["ALLOW_INSECURE_CALLBACKS", "ALLOW_CUSTOM_APNS_HOST", "PUBLIC_URL", "CALLBACK_RETRY_SCHEDULE"]);
    const text = readFileSync(file, "utf8");
    expect(text.match(/ADMIN_TOKEN=/g)).toHaveLength(1);
    expect(text).toContain("ADMIN_TOKEN=my-own-token\n");
    expect(text.match(/MASTER_KEY=/g)).toHaveLength(1);
  });
});
