/**
 * Starts the real passhook Worker on the local runtime (workerd) for tests that drive it over HTTP:
 * wrangler's `createTestHarness` bundles `src/index.ts` with the project's wrangler.toml, serves it on
 * 127.0.0.1 on a free port, keeps D1, Durable Objects and Queues in memory (fresh state per start),
 * and applies the D1 migrations. Vars and secrets are the test values below, whatever `.dev.vars` says
 * (every var is given, so none comes from it).
 */
import path from "node:path";
import { createTestHarness, experimental_readRawConfig } from "wrangler";
import { repoRoot } from "./repo";

export const TEST_SECRETS = {
  ADMIN_TOKEN: "node-test-admin-token",
  MASTER_KEY: "bm9kZS10ZXN0LW1hc3Rlci1rZXktMzItYnl0ZXMtMDA=",
};

/**
 * Every var the Worker reads, pinned: wrangler.toml's `[vars]` as written there, then the test values.
 * The harness loads a developer's `.dev.vars` too (the README adds Google lines for the fake Google),
 * and values given here win. test/node/worker-env.test.ts checks that nothing is left unpinned.
 */
export const TEST_VARS: Record<string, string> = {
  ...(experimental_readRawConfig({ config: path.join(repoRoot, "wrangler.toml") }).rawConfig.vars as Record<string, string>),
  PUBLIC_URL: "",
  ALLOW_INSECURE_CALLBACKS: "false",
  CALLBACK_RETRY_SCHEDULE: "0,0,0,0,0,0,0",
  // An optional secret (README "Configuration"); empty is unset.
  APNS_RELAY_SECRET: "",
};

export interface RunningWorker {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:41234`. */
  url: string;
  stop(): Promise<void>;
  /** Recent Worker log lines, for a failing test's message. */
  logs(): string[];
}

export async function startWorker(vars: Record<string, string> = {}): Promise<RunningWorker> {
  const harness = createTestHarness({
    root: repoRoot,
    workers: [
      {
        configPath: "wrangler.toml",
        vars: { ...TEST_VARS, ...vars },
        secrets: TEST_SECRETS,
      },
    ],
  });
  try {
    const { url } = await harness.listen();
    await harness.getWorker().applyD1Migrations("DB");
    return {
      url: url.origin,
      stop: () => harness.close(),
      logs: () => harness.getLogs().map((l) => `${l.level}: ${l.message}`),
    };
  } catch (e) {
    await harness.close().catch(() => undefined);
    throw e;
  }
}

/** Creates a project through the operator API; returns its id and first API key. */
export async function createProject(base: string, name: string): Promise<{ id: string; key: string; secret: string }> {
  const res = await fetch(`${base}/v1/projects`, {
    method: "POST",
    headers: { authorization: `Bearer ${TEST_SECRETS.ADMIN_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ name }),
  });
  if (res.status !== 201) throw new Error(`project create failed: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { id: string; apiKey: { key: string; secret: string } };
  return { id: body.id, key: body.apiKey.key, secret: body.apiKey.secret };
}
