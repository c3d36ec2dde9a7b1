/**
 * Migrations against seeded rows, not only an empty database (cloudflare-stack.md, "Migration
 * pitfalls": generated rebuilds have copied wrong columns before). The file starts from an empty D1,
 * applies the migrations up to a point, writes rows as the code of that time did, then applies the rest.
 */
import { applyD1Migrations, reset } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { moveLegacyDetails } from "../src/listener";
import { decodeDetail } from "../src/listener/event-details";
import { workerEnv } from "./support/http";

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

describe("0005_event_log_r2: the inbound event log's details move out of D1", () => {
  it("gives old rows integer ids in time order, keeps their details for the move to R2, and maps references", async () => {
    await reset();
    await applyD1Migrations(env.DB, env.TEST_MIGRATIONS.filter((m) => m.name < "0005"));
    await env.DB.batch([
      env.DB.prepare("insert into projects (id, name, created_at, updated_at) values ('prj_e', 'E', 0, 0)"),
      env.DB.prepare("insert into templates (id, project_id, name, pass_type, fields, created_at, updated_at) values (1, 'prj_e', 'T', 'generic', '[]', 0, 0)"),
      env.DB.prepare(
        "insert into integrations (id, project_id, template_id, name, action, field_mapping, token_hash, token_hint, enabled, created_at, updated_at) values ('int_e', 'prj_e', 1, 'i', 'update', '{}', 'h', 'h', 1, 0, 0)",
      ),
      env.DB.prepare(
        `insert into inbound_events (id, integration_id, received_at, headers, content_type, body, body_truncated, body_bytes, body_sha256, idempotency_key, status_code, response, error_code, error_message)
         values ('evt_second', 'int_e', 200, '{"user-agent":"crm"}', 'application/json', '{"pass-id":"a"}', 0, 15, 'abc', 'k1', 400, '{"error":{"code":"validation_failed"}}', 'validation_failed', 'Field x is required.')`,
      ),
      env.DB.prepare(
        `insert into inbound_events (id, integration_id, received_at, headers, body, body_truncated, status_code, response, replay_of)
         values ('evt_third', 'int_e', 300, '{}', '{"pass-id":"a","x":1}', 0, 200, '{"passId":1}', 'evt_second')`,
      ),
      env.DB.prepare(`insert into inbound_events (id, integration_id, received_at, headers, body, body_truncated, status_code, response) values ('evt_first', 'int_e', 100, '{}', '', 1, 413, '{}')`),
      env.DB.prepare("insert into idempotency_keys (scope, key, fingerprint, state, response_status, response_body, created_at, ref) values ('listener:int_e', 'k1', 'f', 'done', 400, 'x', 0, 'evt_second')"),
    ]);
    await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
    const rows = await env.DB.prepare("select id, received_at, status_code, body_bytes, replay_of, legacy_detail from inbound_events order by id").all<Record<string, unknown>>();
    expect(rows.results.map((r) => [r.id, r.received_at, r.status_code, r.replay_of])).toEqual([
      [1, 100, 413, null],
      [2, 200, 400, null],
      [3, 300, 200, 2],
    ]);
    expect(JSON.parse(rows.results[1].legacy_detail as string)).toEqual({
      headers: { "user-agent": "crm" },
      contentType: "application/json",
      body: '{"pass-id":"a"}',
      bodyTruncated: false,
      bodySha256: "abc",
      response: { error: { code: "validation_failed" } },
      errorMessage: "Field x is required.",
    });
    expect(JSON.parse(rows.results[0].legacy_detail as string).bodyTruncated).toBe(true);
    expect(rows.results[2].body_bytes).toBe(21); // measured from the stored body when it was not recorded
    expect(await env.DB.prepare("select ref from idempotency_keys").first()).toEqual({ ref: "2" });

    // The cron moves the details to R2 and clears the column; the API reads them from there.
    expect(await moveLegacyDetails(workerEnv)).toBe(3);
    expect(await env.DB.prepare("select count(*) as n from inbound_events where legacy_detail is not null").first()).toEqual({ n: 0 });
    const moved = await env.EVENT_LOG.get("events/int_e/2");
    expect(decodeDetail(await moved!.text(), true)!.body).toBe('{"pass-id":"a"}');
    expect(await moveLegacyDetails(workerEnv)).toBe(0);
  });
});

describe("wallet_job_due and google_install_state: additive, with backfills", () => {
  it("dates queued jobs' messages by their last touch, and un-installs passes whose last callback was a delete", async () => {
    await reset();
    const mine = (m: { name: string }) => m.name.includes("wallet_job_due") || m.name.includes("google_install_state");
    await applyD1Migrations(env.DB, env.TEST_MIGRATIONS.filter((m) => !mine(m)));
    await env.DB.batch([
      env.DB.prepare("insert into projects (id, name, created_at, updated_at) values ('prj_w', 'W', 0, 0)"),
      env.DB.prepare("insert into templates (id, project_id, name, pass_type, fields, created_at, updated_at) values (1, 'prj_w', 'T', 'generic', '[]', 0, 0)"),
      ...[1, 2, 3].map((id) =>
        env.DB.prepare(
          "insert into passes (id, project_id, template_id, external_id, serial_number, authentication_token, status, fields, version, created_at, updated_at) values (?, 'prj_w', 1, ?, ?, 'token-token-token-1', 'active', '{}', 1, 0, 0)",
        ).bind(id, `x${id}`, `s-${id}`),
      ),
      env.DB.prepare("insert into wallet_jobs (wallet, subject, project_id, wanted_at, done_at, state, attempts, created_at, updated_at) values ('google', 'p:1', 'prj_w', 50, 0, 'pending', 2, 10, 500)"),
      // 1: saved, then deleted; 2: saved; 3: a link, never saved.
      env.DB.prepare("insert into google_objects (pass_id, project_id, template_id, link_issued_at, installed_at, created_at, updated_at) values (1, 'prj_w', 1, 5, 100, 0, 0)"),
      env.DB.prepare("insert into google_objects (pass_id, project_id, template_id, link_issued_at, installed_at, created_at, updated_at) values (2, 'prj_w', 1, 5, 100, 0, 0)"),
      env.DB.prepare("insert into google_objects (pass_id, project_id, template_id, link_issued_at, created_at, updated_at) values (3, 'prj_w', 1, 5, 0, 0)"),
      env.DB.prepare("insert into google_callback_nonces (nonce, pass_id, event_type, received_at) values ('n1', 1, 'save', 100), ('n2', 1, 'del', 200), ('n3', 2, 'del', 50), ('n4', 2, 'save', 100)"),
    ]);
    await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
    expect(await env.DB.prepare("select attempts, updated_at, next_attempt_at from wallet_jobs").first()).toEqual({ attempts: 2, updated_at: 500, next_attempt_at: 500 });
    const objects = await env.DB.prepare("select pass_id, link_issued_at, installed_at, uninstalled_at from google_objects order by pass_id").all();
    expect(objects.results).toEqual([
      { pass_id: 1, link_issued_at: 5, installed_at: null, uninstalled_at: 200 },
      { pass_id: 2, link_issued_at: 5, installed_at: 100, uninstalled_at: null },
      { pass_id: 3, link_issued_at: 5, installed_at: null, uninstalled_at: null },
    ]);
  });
});

describe("0011_apple_pass_type_shards: the directory learns the pass types saved before it", () => {
  it("records every Apple pass type with stored credentials as shard 0's, and nothing for Google", async () => {
    await reset();
    await applyD1Migrations(env.DB, env.TEST_MIGRATIONS.filter((m) => m.name < "0011"));
    const cred = (project: string, wallet: string, summary: string) =>
      env.DB.prepare("insert into wallet_credentials (project_id, wallet, version, secret_enc, summary, created_at, updated_at) values (?, ?, 1, 'v1.x.y', ?, 0, 5)").bind(project, wallet, summary);
    await env.DB.batch([
      env.DB.prepare("insert into projects (id, name, created_at, updated_at) values ('prj_a', 'A', 0, 0), ('prj_b', 'B', 0, 0)"),
      cred("prj_a", "apple", '{"passTypeIdentifier":"pass.example.shared","teamIdentifier":"T"}'),
      cred("prj_b", "apple", '{"passTypeIdentifier":"pass.example.shared","teamIdentifier":"T"}'),
      cred("prj_b", "google", '{"issuerId":"3388"}'),
    ]);
    await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
    const rows = await env.DB.prepare("select pass_type_id, shard, created_at from apple_pass_type_shards").all();
    expect(rows.results).toEqual([{ pass_type_id: "pass.example.shared", shard: 0, created_at: 5 }]);
  });
});
