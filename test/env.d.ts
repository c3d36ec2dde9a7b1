/// <reference types="vite/client" />
// Test-only bindings; the Worker's own Env and GlobalProps come from worker-configuration.d.ts.
declare namespace Cloudflare {
  interface Env {
    TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
    /** Every var vitest.config.ts pins, with its test value (test/test-env.test.ts). */
    TEST_PINNED_VARS: Record<string, string>;
    /** The directory shard, in the "workers-sharded" run only (vitest.config.ts). */
    DIR?: D1Database;
  }
}
