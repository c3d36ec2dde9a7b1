/**
 * The pass domain behind the API: the status state machine pair by pair, per-pass ordering through
 * the Durable Object, independence across passes, all-or-nothing batches, and the outbox seam.
 */
import { createExecutionContext, createMessageBatch, createScheduledController, evictDurableObject, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import worker from "../src/index";
import {
  consumePushes,
  type PassObject,
  failWalletPush,
  finishWalletPush,
  noteWalletPushFailure,
  parseSubject,
  passSubject,
  requestWalletPush,
  walletJob,
  type ChangeSubscriber,
  type PushTask,
  type WalletChange,
  type WalletTask,
} from "../src/passes";
import { call, history, newPass, newProject, newTemplate, passStub, passTarget, workerEnv, type TestProject } from "./support/http";

const STATUSES = ["active", "expired", "voided", "redeemed"] as const;
type Status = (typeof STATUSES)[number];

/** The documented table (src/passes/transitions.ts); "noop" = 200 with no new version. */
const TABLE: Record<Status, Record<Status, "noop" | "ok" | "illegal">> = {
  active: { active: "noop", expired: "ok", voided: "ok", redeemed: "ok" },
  expired: { active: "ok", expired: "noop", voided: "ok", redeemed: "illegal" },
  voided: { active: "illegal", expired: "illegal", voided: "noop", redeemed: "illegal" },
  redeemed: { active: "illegal", expired: "illegal", voided: "illegal", redeemed: "noop" },
};

async function passIn(p: TestProject, t: number, status: Status, externalId: string) {
  const pass = await newPass(p, t, externalId);
  if (status !== "active") {
    const r = await call(`/v1/pass/${pass.id}/status`, { auth: p.auth, body: { status } });
    expect(r.status).toBe(200);
  }
  return (await call(`/v1/pass/${pass.id}`, { auth: p.auth })).body;
}

describe("status transitions", () => {
  it("follows the transition table for every pair", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    for (const from of STATUSES) {
      for (const to of STATUSES) {
        const pass = await passIn(p, t, from, `${from}-${to}`);
        const r = await call(`/v1/pass/${pass.id}/status`, { auth: p.auth, body: { status: to } });
        const expected = TABLE[from][to];
        if (expected === "illegal") {
          expect(r.status, `${from} -> ${to}`).toBe(409);
          expect(r.body.error.code).toBe("illegal_transition");
          expect(r.body.error.message).toContain(from);
          expect(r.body.error.details.currentStatus).toBe(from);
          const after = await call(`/v1/pass/${pass.id}`, { auth: p.auth });
          expect(after.body.status).toBe(from);
          expect(after.body.version).toBe(pass.version);
        } else {
          expect(r.status, `${from} -> ${to}`).toBe(200);
          expect(r.body.status).toBe(to);
          expect(r.body.version, `${from} -> ${to}`).toBe(expected === "noop" ? pass.version : pass.version + 1);
        }
      }
    }
  });

  it("archives from every status, keeping the last status", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    for (const s of STATUSES) {
      const pass = await passIn(p, t, s, `arch-${s}`);
      const r = await call(`/v1/pass/${pass.id}`, { method: "DELETE", auth: p.auth });
      expect(r.status).toBe(200);
      expect(r.body.status).toBe(s);
      expect(r.body.archivedAt).toBeTruthy();
    }
  });

  it("rejects an unknown status with 400", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const pass = await newPass(p, t, "unknown-status");
    const r = await call(`/v1/pass/${pass.id}/status`, { auth: p.auth, body: { status: "lost" } });
    expect(r.status).toBe(400);
    expect(r.body.error.details.issues[0].path).toBe("status");
  });
});

describe("per-pass ordering through the Durable Object", () => {
  it("applies 100 concurrent updates one at a time: no lost update, versions contiguous", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const pass = await newPass(p, t, "busy");
    const responses = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        call(`/v1/pass/${pass.id}`, { method: "PUT", auth: p.auth, body: { fields: { counter: i + 1 } } }),
      ),
    );
    expect(responses.every((r) => r.status === 200)).toBe(true);
    // Every write got its own version: 1 (create) + 100 updates.
    expect(new Set(responses.map((r) => r.body.version)).size).toBe(100);
    const final = await call(`/v1/pass/${pass.id}`, { auth: p.auth });
    expect(final.body.version).toBe(101);

    const events = { results: (await history(p, pass.id)).filter((e) => e.action === "update").map((e) => ({ version: e.version, changes: JSON.stringify(e.changes) })) };
    expect(events.results.map((e) => e.version)).toEqual(Array.from({ length: 100 }, (_, i) => i + 2));
    const counters = events.results.map((e) => JSON.parse(e.changes).fields.counter.to as number);
    expect([...counters].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    // Each event's "from" is the previous event's "to": the writes really were applied in sequence.
    const froms = events.results.map((e) => JSON.parse(e.changes).fields.counter.from);
    expect(froms.slice(1)).toEqual(counters.slice(0, -1));
    // The stored value is the last write applied.
    expect(final.body.fields.counter).toBe(counters[counters.length - 1]);
    // The response each caller got carries its own write.
    for (const r of responses) {
      const e = events.results.find((x) => x.version === r.body.version)!;
      expect(JSON.parse(e.changes).fields.counter.to).toBe(r.body.fields.counter);
    }
  });

  it("does not serialise different passes behind one another", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const a = await newPass(p, t, "held");
    const b = await newPass(p, t, "free");
    // Hold pass A's queue: its next write cannot start until we release it.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const stubA = passStub(t, "held");
    await runInDurableObject(stubA, async (instance) => {
      const held = instance as unknown as { chain: Promise<unknown> };
      expect(held.chain).toBeInstanceOf(Promise); // the field this test holds must exist
      held.chain = gate;
    });
    let aDone = false;
    const writeA = call(`/v1/pass/${a.id}`, { method: "PUT", auth: p.auth, body: { fields: { counter: 1 } } }).then((r) => {
      aDone = true;
      return r;
    });
    const writeB = await call(`/v1/pass/${b.id}`, { method: "PUT", auth: p.auth, body: { fields: { counter: 1 } } });
    expect(writeB.status).toBe(200);
    expect(writeB.body.version).toBe(2);
    expect(aDone).toBe(false);
    release();
    const ra = await writeA;
    expect(ra.status).toBe(200);
    expect(ra.body.version).toBe(2);
  });
});

describe("atomic writes", () => {
  it("leaves no partial rows when a batch fails, then recovers", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const pass = await newPass(p, t, "atomic");
    // A trigger makes the batch's outbox insert fail for this pass, after its pass update ran.
    await env.DB.prepare(`create trigger fail_atomic before insert on outbox when new.pass_id = ${pass.id} begin select raise(abort, 'injected failure'); end`).run();
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const failed = await call(`/v1/pass/${pass.id}`, { method: "PUT", auth: p.auth, body: { fields: { points: 5 } } });
    expect(failed.status).toBe(500);
    expect(errors.mock.calls.map((c) => String(c[0]))).toEqual([expect.stringContaining("injected failure")]);
    errors.mockRestore();
    expect(failed.body).toEqual({ error: { code: "internal", message: "Internal error.", details: null } });
    const row = await env.DB.prepare("select version, fields from passes where id = ?").bind(pass.id).first<{ version: number; fields: string }>();
    expect(row?.version).toBe(1);
    expect(JSON.parse(row!.fields).points).toBe(0);
    // History holds no trace of the write that did not land.
    expect((await history(p, pass.id)).map((e) => e.version)).toEqual([1]);

    await env.DB.prepare("drop trigger fail_atomic").run();
    const ok = await call(`/v1/pass/${pass.id}`, { method: "PUT", auth: p.auth, body: { fields: { points: 5 } } });
    expect(ok.status).toBe(200);
    expect(ok.body.version).toBe(2);
  });
});

describe("atomic creates", () => {
  it("leaves no pass, event or outbox row when a create's batch fails", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    // Make the batch's last statement (the outbox insert) fail for this one externalId.
    await env.DB.prepare(
      `create trigger fail_outbox before insert on outbox
       when new.pass_id in (select id from passes where external_id = 'doomed')
       begin select raise(abort, 'injected failure'); end`,
    ).run();
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const r = await call(`/v1/template/${t}/pass`, { auth: p.auth, body: { externalId: "doomed", fields: { name: "Ada" } } });
    await env.DB.prepare("drop trigger fail_outbox").run();
    expect(r.status).toBe(500);
    expect(errors.mock.calls.map((c) => String(c[0]))).toEqual([expect.stringContaining("injected failure")]);
    errors.mockRestore();
    const count = async (sql: string) => (await env.DB.prepare(sql).first<{ n: number }>())!.n;
    expect(await count("select count(*) as n from passes where external_id = 'doomed'")).toBe(0);
    expect(await count("select count(*) as n from outbox where pass_id not in (select id from passes)")).toBe(0);
    // The Durable Object forgot the failed attempt: the same create now succeeds as version 1.
    const ok = await call(`/v1/template/${t}/pass`, { auth: p.auth, body: { externalId: "doomed", fields: { name: "Ada" } } });
    expect(ok.status).toBe(201);
    expect(ok.body.version).toBe(1);
  });
});

/** Counts inserts into the outbox with a test-only trigger (rows are deleted as soon as they are handed on). */
async function outboxInserts(): Promise<() => Promise<number>> {
  await env.DB.batch([
    env.DB.prepare("create table if not exists test_outbox_inserts (n integer not null)"),
    env.DB.prepare("insert into test_outbox_inserts (n) select 0 where not exists (select 1 from test_outbox_inserts)"),
    env.DB.prepare("create trigger if not exists test_count_outbox after insert on outbox begin update test_outbox_inserts set n = n + 1; end"),
  ]);
  return async () => (await env.DB.prepare("select n from test_outbox_inserts").first<{ n: number }>())!.n;
}

describe("the after-change seam (outbox + pushes queue)", () => {
  it("writes an outbox row with every change and the pushes consumer takes it", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const seq = await outboxInserts();
    const before = await seq();
    const pass = await newPass(p, t, "seam");
    await call(`/v1/pass/${pass.id}/status`, { auth: p.auth, body: { status: "expired" } });
    // Two rows were written (one per change, in the same batch) and the consumer took both.
    expect(await seq()).toBe(before + 2);
    await vi.waitUntil(async () => (await env.DB.prepare("select count(*) as n from outbox where pass_id = ?").bind(pass.id).first<{ n: number }>())!.n === 0, {
      timeout: 30_000,
      interval: 20,
    });
  });

  it("re-sends pending tasks the queue never took, from the cron sweep", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const pass = await newPass(p, t, "lost");
    const old = Date.now() - 10 * 60 * 1000;
    const { id } = (await env.DB.prepare("insert into outbox (project_id, pass_id, template_id, version, sends, created_at) values (?, ?, ?, 1, 0, ?) returning id").bind(p.id, pass.id, t, old).first<{ id: number }>())!;
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "*/5 * * * *", scheduledTime: Date.now() }), env, ctx);
    await waitOnExecutionContext(ctx);
    await vi.waitUntil(async () => (await env.DB.prepare("select count(*) as n from outbox where id = ?").bind(id).first<{ n: number }>())!.n === 0, {
      timeout: 30_000,
      interval: 20,
    });
  });

  it("records every change in the append-only event log", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const pass = await newPass(p, t, "log");
    await call(`/v1/pass/${pass.id}`, { method: "PUT", auth: p.auth, body: { fields: { points: 3 } } });
    await call(`/v1/pass/${pass.id}/status`, { auth: p.auth, body: { status: "redeemed" } });
    await call(`/v1/pass/${pass.id}`, { method: "DELETE", auth: p.auth });
    const r = { results: (await history(p, pass.id)).map(({ version, action, source }) => ({ version, action, source })) };
    expect(r.results).toEqual([
      { version: 1, action: "create", source: "api" },
      { version: 2, action: "update", source: "api" },
      { version: 3, action: "status", source: "api" },
      { version: 4, action: "archive", source: "api" },
    ]);
  });
});

describe("group commit", () => {
  it("commits writes that queue up behind a batch as one D1 batch, each with its own version and answer", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const pass = await newPass(p, t, "grouped");
    const inserts = await outboxInserts();
    const before = await inserts();
    const stub = passStub(t, "grouped");
    // Twenty writes handed to the object in one go: all are waiting before the first batch starts.
    const outcomes = await runInDurableObject(stub, (instance: PassObject) =>
      Promise.all(Array.from({ length: 20 }, (_, k) => instance.apply(passTarget(t, "grouped"), { op: "update", patch: { counter: k + 1 } }, "test"))),
    );
    expect(outcomes.map((o) => (o.ok ? o.pass.version : -1))).toEqual(Array.from({ length: 20 }, (_, k) => k + 2));
    expect(outcomes.map((o) => (o.ok ? o.pass.fields.counter : -1))).toEqual(Array.from({ length: 20 }, (_, k) => k + 1));
    expect(await inserts()).toBe(before + 1); // one outbox row (and one batch) for the group
    const final = await call(`/v1/pass/${pass.id}`, { auth: p.auth });
    expect(final.body).toMatchObject({ version: 21, fields: { counter: 20 } });
    const events = (await history(p, pass.id)).filter((e) => e.action === "update");
    expect(events.map((e) => e.changes.fields.counter.to)).toEqual(Array.from({ length: 20 }, (_, k) => k + 1));
    expect(events.slice(1).map((e) => e.changes.fields.counter.from)).toEqual(Array.from({ length: 19 }, (_, k) => k + 1));
  });

  it("answers each write of a group on its own: a refusal among writes, a create followed by updates", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const stub = passStub(t, "fresh");
    const target = passTarget(t, "fresh");
    const outcomes = await runInDurableObject(stub, (instance: PassObject) =>
      Promise.all([
        instance.apply(target, { op: "update", patch: { counter: 1 } }, "test"), // before the create: no pass yet
        instance.apply(target, { op: "create", projectId: p.id, fields: { name: "Ada" }, onExisting: "conflict" }, "test"),
        instance.apply(target, { op: "update", patch: { counter: 2 } }, "test"),
        instance.apply(target, { op: "status", status: "redeemed" }, "test"),
        instance.apply(target, { op: "status", status: "active" }, "test"), // redeemed is final
      ]),
    );
    expect(outcomes.map((o) => (o.ok ? `${o.pass.version}${o.created ? " created" : ""}` : o.error.code))).toEqual(["not_found", "1 created", "2", "3", "illegal_transition"]);
    const ids = new Set(outcomes.filter((o) => o.ok).map((o) => (o.ok ? o.pass.id : 0)));
    expect(ids.size).toBe(1);
    expect([...ids][0]).toBeGreaterThan(0);
    const got = await call(`/v1/pass/template/${t}/id/fresh`, { auth: p.auth });
    expect(got.body).toMatchObject({ id: [...ids][0], version: 3, status: "redeemed", fields: { name: "Ada", counter: 2 } });
  });
});

describe("group commit: one bad write does not sink the others", () => {
  it("names the pass a same-group create made when refusing a second create of it", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const stub = passStub(t, "twice");
    const target = passTarget(t, "twice");
    const create = { op: "create", projectId: p.id, fields: { name: "Ada" }, onExisting: "conflict" } as const;
    const [first, second] = await runInDurableObject(stub, (instance: PassObject) => Promise.all([instance.apply(target, create, "test"), instance.apply(target, create, "test")]));
    expect(first.ok).toBe(true);
    expect(second.ok).toBe(false);
    if (!first.ok || second.ok) return;
    expect(second.error.code).toBe("already_exists");
    expect(second.error.details).toMatchObject({ passId: first.pass.id });
    expect(first.pass.id).toBeGreaterThan(0);
  });

  it("retries a failed group's writes one by one: a receipt for a deleted integration fails alone, with a 404", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const pass = await newPass(p, t, "shared");
    const stub = passStub(t, "shared");
    const target = passTarget(t, "shared");
    // A listener request whose integration was deleted after the (cached) lookup found it.
    const receipt = {
      integrationId: "int_deleted_a_moment_ago",
      receivedAt: Date.now(),
      idempotencyKey: null,
      bodyBytes: 10,
      replayOf: null,
      duplicateOf: null,
      claimed: null,
      answer: { externalId: "shared", action: "update", ignoredFields: [] },
    };
    const quiet = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const outcomes = await runInDurableObject(stub, (instance: PassObject) =>
      Promise.all([
        instance.apply(target, { op: "update", patch: { counter: 1 } }, "api"),
        instance.apply(target, { op: "update", patch: { counter: 2 } }, "listener:int_deleted_a_moment_ago", receipt),
        instance.apply(target, { op: "update", patch: { counter: 3 } }, "api"),
      ]),
    );
    quiet.mockRestore();
    expect(outcomes.map((o) => (o.ok ? o.pass.version : o.error.code))).toEqual([2, "not_found", 3]);
    const got = await call(`/v1/pass/${pass.id}`, { auth: p.auth });
    expect(got.body).toMatchObject({ version: 3, fields: { counter: 3 } });
    const versions = (await history(p, pass.id)).filter((e) => e.action === "update").map((e) => e.version);
    expect(versions).toEqual([2, 3]);
  });
});

describe("history in the pass's own Durable Object", () => {
  it("reads history through the API, newest first, in pages", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const pass = await newPass(p, t, "paged");
    for (let k = 1; k <= 4; k++) await call(`/v1/pass/${pass.id}`, { method: "PUT", auth: p.auth, body: { fields: { counter: k } } });
    const first = await call(`/v1/pass/${pass.id}/events?limit=2`, { auth: p.auth });
    expect(first.body.events.map((e: { version: number }) => e.version)).toEqual([5, 4]);
    const second = await call(`/v1/pass/${pass.id}/events?limit=2&cursor=${first.body.nextCursor}`, { auth: p.auth });
    expect(second.body.events.map((e: { version: number }) => e.version)).toEqual([3, 2]);
    expect(first.body.events[0]).toMatchObject({ kind: "write", action: "update", source: "api", changes: { fields: { counter: { from: 3, to: 4 } } } });
    const other = await newProject();
    expect((await call(`/v1/pass/${pass.id}/events`, { auth: other.auth })).status).toBe(404);
    expect((await call(`/v1/pass/${pass.id}/events?cursor=x`, { auth: p.auth })).status).toBe(400);
  });

  it("moves a pass's old D1 event rows into its object once, keeping their order", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    // A pass written before history moved: its row and events sit in D1 only.
    const { id } = (await env.DB.prepare(
      `insert into passes (project_id, template_id, external_id, serial_number, authentication_token, status, fields, version, created_at, updated_at)
       values (?, ?, 'legacy', ?, 'legacy-auth-token-0123', 'active', '{"name":"Old"}', 2, 1000, 2000) returning id`,
    )
      .bind(p.id, t, crypto.randomUUID())
      .first<{ id: number }>())!;
    await env.DB.batch([
      env.DB.prepare(`insert into pass_events (pass_id, version, kind, action, source, changes, at) values (?, 1, 'write', 'create', 'api', '{"fields":{"name":"Old"}}', 1000)`).bind(id),
      env.DB.prepare(`insert into pass_events (pass_id, version, kind, action, source, changes, at) values (?, 1, 'holder', 'install', 'apple', '{"platform":"ios"}', 1500)`).bind(id),
      env.DB.prepare(`insert into pass_events (pass_id, version, kind, action, source, changes, at) values (?, 2, 'write', 'update', 'api', '{}', 2000)`).bind(id),
    ]);
    expect((await call(`/v1/pass/${id}`, { method: "PUT", auth: p.auth, body: { fields: { points: 9 } } })).body.version).toBe(3);
    expect((await history(p, id)).map((e) => `${e.version}:${e.action}`)).toEqual(["1:create", "1:install", "2:update", "3:update"]);
    expect(await env.DB.prepare("select count(*) as n from pass_events where pass_id = ?").bind(id).first<{ n: number }>()).toEqual({ n: 0 });
  });

  it("drops a history entry whose D1 write never landed when the object starts again", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const pass = await newPass(p, t, "orphan");
    const stub = passStub(t, "orphan");
    // As if the object died after keeping the entry and before its D1 batch committed.
    await runInDurableObject(stub, async (_instance, state) => {
      state.storage.sql.exec("INSERT INTO events (version, kind, action, source, changes, at) VALUES (2, 'write', 'update', 'api', '{}', 0)");
    });
    await evictDurableObject(stub);
    expect((await history(p, pass.id)).map((e) => e.version)).toEqual([1]);
    expect((await call(`/v1/pass/${pass.id}`, { method: "PUT", auth: p.auth, body: { fields: { points: 2 } } })).body.version).toBe(2);
    expect((await history(p, pass.id)).map((e) => e.version)).toEqual([1, 2]);
  });
});

describe("wallet hand-off: subscribers and push jobs", () => {
  it("hands each change to every wallet and deletes the outbox row only when all of them succeeded", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const pass = await newPass(p, t, "handoff");
    const insert = (cols: string, vals: unknown[]) =>
      env.DB.prepare(`insert into outbox (${cols}) values (${vals.map(() => "?").join(", ")}) returning id`).bind(...vals).first<{ id: number }>();
    const passTask = (await insert("project_id, pass_id, template_id, version, created_at", [p.id, pass.id, t, 5, 1234]))!.id;
    const templateTask = (await insert("project_id, template_id, version, created_at", [p.id, t, 999, 999]))!.id;
    const seen: WalletChange[] = [];
    let failGoogle = true;
    const apple: ChangeSubscriber = async (c) => void seen.push(c);
    const google: ChangeSubscriber = async () => {
      if (failGoogle) throw new Error("google side down");
    };
    const batch = () =>
      createMessageBatch<PushTask>("passhook-pushes", [
        { id: "a", timestamp: new Date(), attempts: 1, body: { outboxId: passTask } },
        { id: "b", timestamp: new Date(), attempts: 1, body: { outboxId: templateTask } },
      ]);
    const quiet = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const first = batch();
    const retried = first.messages.map((m) => vi.spyOn(m, "retry"));
    await consumePushes(first, workerEnv, [apple, google], () => 0.5);
    expect(retried.every((r) => r.mock.calls.length === 1)).toBe(true);
    quiet.mockRestore();
    expect(seen).toEqual([
      { kind: "pass", projectId: p.id, passId: pass.id, templateId: t, version: 5, at: 1234 },
      { kind: "template", projectId: p.id, templateId: t, at: 999 },
    ]);
    const left = async () => (await env.DB.prepare("select count(*) as n from outbox where id in (?, ?)").bind(passTask, templateTask).first<{ n: number }>())!.n;
    expect(await left()).toBe(2);
    failGoogle = false;
    const second = batch();
    const acked = second.messages.map((m) => vi.spyOn(m, "ack"));
    await consumePushes(second, workerEnv, [apple, google], () => 0.5);
    expect(acked.every((a) => a.mock.calls.length === 1)).toBe(true);
    expect(await left()).toBe(0);
  });

  it("writes a template change task with every template save", async () => {
    const p = await newProject();
    const seq = await outboxInserts();
    const before = await seq();
    const t = await newTemplate(p);
    const r = await call(`/v1/template/${t}`, { method: "PUT", auth: p.auth, body: { name: "Renamed", passType: "loyalty", fields: [{ key: "name", label: "Name", type: "text" }] } });
    expect(r.status).toBe(200);
    expect(await seq()).toBe(before + 2);
  });

  it("coalesces changes into one due job per wallet and subject, and keeps a failed job's record", async () => {
    const p = await newProject();
    const sent: WalletTask[] = [];
    const queue = { send: async (t: WalletTask) => void sent.push(t), sendBatch: async () => undefined } as unknown as Queue;
    const task = { wallet: "google" as const, subject: passSubject(4242) };
    const ask = (wantedAt: number) => requestWalletPush(workerEnv, queue, { ...task, projectId: p.id, wantedAt }, wantedAt);
    expect(await ask(100)).toBe(true);
    expect(await ask(90)).toBe(true); // an older change does not move wanted back
    expect((await walletJob(workerEnv, task))!).toMatchObject({ wantedAt: 100, doneAt: 0, state: "pending", due: true });
    await ask(200);
    // Shown as of 100 while 200 arrived: still pending (200's own message carries it).
    await finishWalletPush(workerEnv, task, 100, 300);
    expect((await walletJob(workerEnv, task))!).toMatchObject({ doneAt: 100, state: "pending", due: true });
    await finishWalletPush(workerEnv, task, 200, 301);
    expect((await walletJob(workerEnv, task))!).toMatchObject({ doneAt: 200, state: "done", due: false });
    expect(await ask(150)).toBe(false); // already shown: nothing sent
    expect(sent).toHaveLength(3);
    await ask(400);
    await noteWalletPushFailure(workerEnv, task, "HTTP 503", 401);
    await failWalletPush(workerEnv, task, "HTTP 503 after 10 tries", 402);
    expect((await walletJob(workerEnv, task))!).toMatchObject({ state: "failed", lastError: "HTTP 503 after 10 tries", attempts: 1, due: false });
    expect(await ask(500)).toBe(true); // a newer change revives it
    expect((await walletJob(workerEnv, task))!).toMatchObject({ state: "pending", attempts: 0 });
    expect(parseSubject("p:12")).toEqual({ kind: "pass", id: 12 });
    expect(parseSubject("t:3")).toEqual({ kind: "template", id: 3 });
    expect(parseSubject("p:0")).toBeNull();
    expect(parseSubject("x:1")).toBeNull();
  });
});
