// Two test projects:
// - "workers": inside workerd with real local D1, Durable Objects and Queues. Storage is isolated per
//   test file, so the suite keeps to a few larger files.
// - "node": outside workerd, for what needs the host (openssl, a real browser, a Worker driven over HTTP).
import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { experimental_readRawConfig } from "wrangler";
import { defineConfig } from "vitest/config";

// Test-only secrets. Set in process.env too, where wrangler looks for required secrets.
const TEST_SECRETS = { ADMIN_TOKEN: "test-admin-token", MASTER_KEY: "dGVzdC1tYXN0ZXIta2V5LTMyLWJ5dGVzLWxvbmctMDA=" };
Object.assign(process.env, TEST_SECRETS);

// Every var the Worker reads, pinned: wrangler.toml's [vars] as written there, then the test values.
// Wrangler also loads a developer's .dev.vars (or .env) into the test Worker; bindings set here win,
// so following the README (which adds GOOGLE_* lines for the fake Google) never changes a test run.
// test/test-env.test.ts checks that every key of wrangler.toml [vars] and .dev.vars.example is here.
const WRANGLER_VARS = { ...(experimental_readRawConfig({ config: path.join(import.meta.dirname, "wrangler.toml") }).rawConfig.vars ?? {}) } as Record<string, string>;
const PINNED_VARS: Record<string, string> = {
  ...WRANGLER_VARS,
  ...TEST_SECRETS,
  PUBLIC_URL: "https://passhook.test",
  ALLOW_INSECURE_CALLBACKS: "false",
  // End-to-end delivery tests retry at once; the real schedule is tested as pure maths.
  CALLBACK_RETRY_SCHEDULE: "0,0,0,0,0,0,0",
  REQUEST_LOG: "false",
  // APNs is mocked at Apple's own hosts: the tests run with the production policy.
  ALLOW_CUSTOM_APNS_HOST: "false",
  // An optional secret (README "Configuration"); empty is unset.
  APNS_RELAY_SECRET: "",
};

/** Files that run a second time over two D1 shards: every path from a request or a message to D1. */
const SHARDED_FILES = ["test/*.test.ts"];

export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
  type Shards = { vars: Record<string, string>; d1Databases: Record<string, string>; include: string[] };
  const workersProject = (name: string, shards?: Shards) => ({
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        remoteBindings: false,
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            ...PINNED_VARS,
            TEST_PINNED_VARS: { ...PINNED_VARS, ...shards?.vars },
            ...shards?.vars,
          },
          ...(shards ? { d1Databases: shards.d1Databases } : {}),
          compatibilityFlags: ["service_binding_extra_handlers"],
          // Each entry replaces wrangler's whole consumer block, so every field is spelled out.
          queueConsumers: {
            "passhook-callbacks": { maxBatchSize: 10, maxBatchTimeout: 0.05, maxRetries: 10, retryDelay: 0, deadLetterQueue: "passhook-callbacks-dlq" },
            "passhook-callbacks-dlq": { maxBatchSize: 10, maxBatchTimeout: 0.05, maxRetries: 10, retryDelay: 0 },
            "passhook-pushes": { maxBatchSize: 10, maxBatchTimeout: 0.05, maxRetries: 10, retryDelay: 0, deadLetterQueue: "passhook-pushes-dlq" },
            "passhook-pushes-dlq": { maxBatchSize: 10, maxBatchTimeout: 0.05, maxRetries: 10, retryDelay: 0 },
            "passhook-google": { maxBatchSize: 10, maxBatchTimeout: 0.05, maxRetries: 10, retryDelay: 0, deadLetterQueue: "passhook-google-dlq" },
            "passhook-google-dlq": { maxBatchSize: 10, maxBatchTimeout: 0.05, maxRetries: 10, retryDelay: 0 },
            "passhook-apple": { maxBatchSize: 10, maxBatchTimeout: 0.05, maxRetries: 3, retryDelay: 0, deadLetterQueue: "passhook-apple-dlq" },
            "passhook-apple-dlq": { maxBatchSize: 10, maxBatchTimeout: 0.05, maxRetries: 10, retryDelay: 0 },
          },
          ratelimits: {
            LISTENER_RATE_LIMIT: { namespace_id: "1001", simple: { limit: 120, period: 60 } },
            LISTENER_REJECT_LIMIT: { namespace_id: "1002", simple: { limit: 20, period: 60 } },
            AUTH_RATE_LIMIT: { namespace_id: "1003", simple: { limit: 10, period: 60 } },
            APPLE_LOG_RATE_LIMIT: { namespace_id: "1004", simple: { limit: 5, period: 60 } },
            WALLET_CALLBACK_RATE_LIMIT: { namespace_id: "1005", simple: { limit: 20, period: 60 } },
          },
          // Backstop: a request the test forgot to mock answers 599 instead of reaching a network.
          outboundService: () => new Response("unmocked outbound request", { status: 599 }),
        },
      }),
    ],
    test: {
      name,
      setupFiles: ["./test/setup/apply-migrations.ts"],
      include: shards?.include ?? ["test/**/*.test.ts"],
      exclude: ["test/node/**"],
      testTimeout: 60_000,
    },
  });
  return {
    test: {
      // CI also writes a JSON report so .ci/run can print a plain "N passed, N failed" line.
      reporters: process.env.CI ? ["default", "json"] : ["default"],
      outputFile: process.env.CI ? { json: ".ci/vitest-report.json" } : undefined,
      // The Worker's informational log lines (auth refused, signature refused, ...) are expected in a
      // run and hidden; errors still show, and tests that cause one on purpose capture and assert it.
      // TEST_LOGS=1 shows everything.
      onConsoleLog: (_log: string, type: "stdout" | "stderr") => (type === "stdout" && process.env.TEST_LOGS !== "1" ? false : undefined),
      projects: [
        workersProject("workers"),
        // The same Worker over two D1 shards (docs/scaling.md): the directory in DIR, every project
        // created in DB, the binding the tests read their rows from. Unsharded paths would read the
        // directory (or throw: db/shards.ts rootEnv), so these files prove each entry point picks
        // the shard its request names.
        workersProject("workers-sharded", {
          vars: { D1_SHARDS: "DIR,DB", D1_OPEN_SHARDS: "DB" },
          d1Databases: { DB: "00000000-0000-0000-0000-000000000000", DIR: "00000000-0000-0000-0000-0000000000d1" },
          include: SHARDED_FILES,
        }),
        {
          test: {
            name: "node",
            environment: "node",
            include: ["test/node/**/*.test.ts"],
            testTimeout: 60_000,
          },
        },
      ],
    },
  };
});
