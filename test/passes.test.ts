/**
 * The pass domain behind the API: the status state machine pair by pair, per-pass ordering through
 * the Durable Object, independence across passes, all-or-nothing batches, and the outbox seam.
 */
import { createExecutionContext, createScheduledController, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import worker from "../src/index";
import { call, newPass, newProject, newTemplate, type TestProject } from "./support/http";

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

    const events = await env.DB.prepare("select version, changes from pass_events where pass_id = ? and action = 'update' order by id")
      .bind(pass.id)
      .all<{ version: number; changes: string }>();
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
    const stubA = env.PASS_OBJECT.getByName(`${t}:held`);
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
    // Plant a conflicting event row for version 2: the update's event insert will violate the unique index.
    await env.DB.prepare("insert into pass_events (pass_id, version, kind, action, source, changes, at) values (?, 2, 'write', 'update', 'test', '{}', 0)")
      .bind(pass.id)
      .run();
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const failed = await call(`/v1/pass/${pass.id}`, { method: "PUT", auth: p.auth, body: { fields: { points: 5 } } });
    expect(failed.status).toBe(500);
    expect(errors.mock.calls.map((c) => String(c[0]))).toEqual([expect.stringContaining("pass write failed; nothing was written")]);
    errors.mockRestore();
    expect(failed.body).toEqual({ error: { code: "internal", message: "Internal error.", details: null } });
    const row = await env.DB.prepare("select version, fields from passes where id = ?").bind(pass.id).first<{ version: number; fields: string }>();
    expect(row?.version).toBe(1);
    expect(JSON.parse(row!.fields).points).toBe(0);
    const outbox = await env.DB.prepare("select count(*) as n from outbox where pass_id = ?").bind(pass.id).first<{ n: number }>();
    expect(outbox?.n).toBe(1);

    await env.DB.prepare("delete from pass_events where source = 'test' and pass_id = ?").bind(pass.id).run();
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
    expect(await count("select count(*) as n from pass_events where pass_id not in (select id from passes)")).toBe(0);
    expect(await count("select count(*) as n from outbox where pass_id not in (select id from passes)")).toBe(0);
    // The Durable Object forgot the failed attempt: the same create now succeeds as version 1.
    const ok = await call(`/v1/template/${t}/pass`, { auth: p.auth, body: { externalId: "doomed", fields: { name: "Ada" } } });
    expect(ok.status).toBe(201);
    expect(ok.body.version).toBe(1);
  });
});

describe("the after-change seam (outbox + pushes queue)", () => {
  it("writes an outbox row with every change and the pushes consumer takes it", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const pass = await newPass(p, t, "seam");
    await call(`/v1/pass/${pass.id}/status`, { auth: p.auth, body: { status: "expired" } });
    await vi.waitUntil(
      async () => {
        const r = await env.DB.prepare("select state from outbox where pass_id = ?").bind(pass.id).all<{ state: string }>();
        return r.results.length === 2 && r.results.every((x) => x.state === "done");
      },
      { timeout: 5000, interval: 20 },
    );
    const rows = await env.DB.prepare("select version, topic from outbox where pass_id = ? order by version").bind(pass.id).all();
    expect(rows.results).toEqual([
      { version: 1, topic: "pushes" },
      { version: 2, topic: "pushes" },
    ]);
  });

  it("re-sends pending tasks the queue never took, from the cron sweep", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const pass = await newPass(p, t, "lost");
    const old = Date.now() - 10 * 60 * 1000;
    await env.DB.prepare("insert into outbox (id, pass_id, topic, version, state, sends, created_at) values ('obx_lost', ?, 'pushes', 1, 'pending', 0, ?)")
      .bind(pass.id, old)
      .run();
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "*/5 * * * *", scheduledTime: Date.now() }), env, ctx);
    await waitOnExecutionContext(ctx);
    await vi.waitUntil(
      async () => (await env.DB.prepare("select state from outbox where id = 'obx_lost'").first<{ state: string }>())?.state === "done",
      { timeout: 5000, interval: 20 },
    );
    const row = await env.DB.prepare("select sends from outbox where id = 'obx_lost'").first<{ sends: number }>();
    expect(row?.sends).toBe(1);
  });

  it("records every change in the append-only event log", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const pass = await newPass(p, t, "log");
    await call(`/v1/pass/${pass.id}`, { method: "PUT", auth: p.auth, body: { fields: { points: 3 } } });
    await call(`/v1/pass/${pass.id}/status`, { auth: p.auth, body: { status: "redeemed" } });
    await call(`/v1/pass/${pass.id}`, { method: "DELETE", auth: p.auth });
    const r = await env.DB.prepare("select version, action, source from pass_events where pass_id = ? order by id").bind(pass.id).all();
    expect(r.results).toEqual([
      { version: 1, action: "create", source: "api" },
      { version: 2, action: "update", source: "api" },
      { version: 3, action: "status", source: "api" },
      { version: 4, action: "archive", source: "api" },
    ]);
  });
});
