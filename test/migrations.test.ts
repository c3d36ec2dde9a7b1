/**
 * Migrations against seeded rows, not only an empty database (cloudflare-stack.md, "Migration
 * pitfalls": generated rebuilds have copied wrong columns before). The file starts from an empty D1,
 * applies the migrations up to a point, writes rows as the code of that time did, then applies the rest.
 */
import { applyD1Migrations, reset } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

const byName = (prefix: string) => env.TEST_MIGRATIONS.filter((m) => m.name.startsWith(prefix));

describe("0002_performance: the outbox rebuild", () => {
  it("moves pending tasks over with integer ids and their pass's project, and drops done ones", async () => {
    await reset();
    await applyD1Migrations(env.DB, [...byName("0000"), ...byName("0001")]);
    await env.DB.batch([
      env.DB.prepare("insert into projects (id, name, created_at, updated_at) values ('prj_m', 'M', 0, 0)"),
      env.DB.prepare("insert into templates (id, project_id, name, pass_type, fields, created_at, updated_at) values (7, 'prj_m', 'T', 'generic', '[]', 0, 0)"),
      env.DB.prepare(
        "insert into passes (id, project_id, template_id, external_id, serial_number, authentication_token, status, fields, version, created_at, updated_at) values (3, 'prj_m', 7, 'x', 's-1', 'token-token-token-1', 'active', '{}', 2, 0, 0)",
      ),
      env.DB.prepare("insert into outbox (id, pass_id, topic, version, state, sends, created_at, sent_at) values ('obx_a', 3, 'pushes', 1, 'done', 1, 100, 150)"),
      env.DB.prepare("insert into outbox (id, pass_id, topic, version, state, sends, created_at, sent_at) values ('obx_b', 3, 'pushes', 2, 'pending', 2, 200, 250)"),
      env.DB.prepare("insert into idempotency_keys (scope, key, fingerprint, state, response_status, response_body, created_at) values ('prj_m', 'k', 'f', 'done', 201, 'v1.x.y', 0)"),
    ]);
    await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
    const rows = await env.DB.prepare("select * from outbox").all();
    expect(rows.results).toEqual([{ id: 1, project_id: "prj_m", pass_id: 3, template_id: 7, version: 2, sends: 2, created_at: 200, sent_at: null }]);
    expect(await env.DB.prepare("select sealed from idempotency_keys").first()).toEqual({ sealed: 1 });
    // The rebuilt table works as the code expects: a new row gets the next integer id.
    const next = await env.DB.prepare("insert into outbox (project_id, pass_id, version, created_at) values ('prj_m', 3, 3, 300) returning id").first<{ id: number }>();
    expect(next!.id).toBe(2);
  });
});
