/**
 * D1 sharded by project (docs/scaling.md; src/db/shards.ts). The pure routing of identifiers and queue
 * messages to shards, then the Worker end to end. This file runs in both workers projects: unsharded,
 * identifiers carry no shard; in "workers-sharded" (directory DIR, projects in DB) they name shard 1,
 * and a second project placed in shard 0 shows two shards serving one deployment side by side.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { batchesByShard, directoryDb, messageShard, openShards, prefixShard, rootEnv, shardField, shardNames, shardOf, splitShard, withShard } from "../src/db/shards";
import { createProject } from "../src/projects";
import { goodCredentials } from "./support/apple-fixtures";
import { appleProject, mockNetwork, PASS_TYPE, register } from "./support/apple-web";
import { BASE, basic, call, newPass, newProject, newTemplate, type TestProject } from "./support/http";

afterEach(() => vi.restoreAllMocks());

const sharded = env.DIR !== undefined;

/** Stand-ins for D1 bindings: the routing only needs to tell them apart. */
const fakeD1 = (name: string) => ({ name, prepare: () => null }) as unknown as D1Database;
const fakeEnv = (shards: string, open = "") => ({ DB: fakeD1("DB"), DB_1: fakeD1("DB_1"), DB_2: fakeD1("DB_2"), NOT_D1: "x", D1_SHARDS: shards, D1_OPEN_SHARDS: open }) as unknown as Env;
const nameOf = (db: D1Database) => (db as unknown as { name: string }).name;

describe("shard routing (pure)", () => {
  it("one shard is exactly the unsharded Worker: same env, no prefixes, no shard in messages", () => {
    const e = fakeEnv("");
    expect(withShard(e, 0)).toBe(e);
    expect(rootEnv(e)).toBe(e);
    expect(shardOf(e)).toBe(0);
    expect(prefixShard(e, ".", "tok")).toBe("tok");
    expect(shardField(e)).toEqual({});
    expect(shardNames(e)).toEqual(["DB"]);
    expect(splitShard(e, ".", "1.tok")).toBeNull(); // no shard 1 here: not found, never shard 0
  });

  it("swaps DB for the shard, remembers which it is, and keeps the directory", () => {
    const e = fakeEnv("DB,DB_1,DB_2");
    const s2 = withShard(e, 2);
    expect(nameOf(s2.DB)).toBe("DB_2");
    expect(shardOf(s2)).toBe(2);
    expect(nameOf(directoryDb(s2))).toBe("DB");
    expect(withShard(e, 2)).toBe(s2); // cached: the hot path does not copy bindings per request
    expect(withShard(s2, 1).DB).toBe(withShard(e, 1).DB); // from a swapped env too
    expect(nameOf(withShard(s2, 0).DB)).toBe("DB");
    expect(shardNames(e).map((_, k) => nameOf(withShard(e, k).DB))).toEqual(["DB", "DB_1", "DB_2"]);
    expect(() => withShard(e, 3)).toThrow(/not a D1 binding/);
    expect(() => withShard(fakeEnv("DB,NOT_D1"), 1)).toThrow(/NOT_D1/);
  });

  it("puts the shard in front of identifiers and reads it back; a prefix naming no shard is refused", () => {
    const e = fakeEnv("DB,DB_1,DB_2");
    const s2 = withShard(e, 2);
    expect(prefixShard(s2, ".", "abc")).toBe("2.abc");
    expect(splitShard(e, ".", "2.abc")).toEqual({ shard: 2, rest: "abc" });
    expect(splitShard(e, ".", "abc")).toEqual({ shard: 0, rest: "abc" });
    expect(splitShard(e, ".", "9.abc")).toBeNull();
    expect(splitShard(e, "_", "1a.tag_x")).toEqual({ shard: 0, rest: "1a.tag_x" }); // a holder token of shard 0
    expect(splitShard(e, "_", "1_1a.tag_x")).toEqual({ shard: 1, rest: "1a.tag_x" });
    // A UUID serial of shard 0 never looks prefixed.
    expect(splitShard(e, ".", "1234abcd-0000-4000-8000-000000000000")).toEqual({ shard: 0, rest: "1234abcd-0000-4000-8000-000000000000" });
  });

  it("guards DB until an entry point chose a shard", () => {
    const root = rootEnv(fakeEnv("DB,DB_1"));
    expect(() => root.DB).toThrow(/before a D1 shard was chosen/);
    expect(nameOf(withShard(root, 1).DB)).toBe("DB_1");
    expect(nameOf(directoryDb(root))).toBe("DB");
  });

  it("reads a message's shard: absent is 0, anything else must be a configured shard", () => {
    const e = fakeEnv("DB,DB_1");
    expect(messageShard(e, { outboxId: 1 })).toBe(0);
    expect(messageShard(e, { outboxId: 1, shard: 1 })).toBe(1);
    expect(messageShard(e, { outboxId: 1, shard: 2 })).toBeNull();
    expect(messageShard(e, { outboxId: 1, shard: "1" })).toBeNull();
    expect(shardField(withShard(e, 1))).toEqual({ shard: 1 });
  });

  it("splits a queue batch by shard and drops messages naming no shard", () => {
    const e = fakeEnv("DB,DB_1");
    const acked: number[] = [];
    const retried: number[] = [];
    const msg = (id: number, shard?: unknown) => ({ id: String(id), body: shard === undefined ? { id } : { id, shard }, ack: () => acked.push(id), retry: () => retried.push(id) });
    const batch = { queue: "q", metadata: {}, messages: [msg(1), msg(2, 1), msg(3, 7), msg(4)], retryAll() {}, ackAll() {} } as unknown as MessageBatch<{ id: number }>;
    const parts = batchesByShard(e, batch);
    expect(parts.map((p) => [p.shard, p.batch.messages.map((m) => m.body.id)])).toEqual([
      [0, [1, 4]],
      [1, [2]],
    ]);
    expect(acked).toEqual([3]);
    parts[1].batch.retryAll();
    expect(retried).toEqual([2]);
  });

  it("opens the shards D1_OPEN_SHARDS names, all by default, and refuses a list naming none", () => {
    expect(openShards(fakeEnv("DB,DB_1,DB_2"))).toEqual([0, 1, 2]);
    expect(openShards(fakeEnv("DB,DB_1,DB_2", "DB_2, DB_1"))).toEqual([1, 2]);
    expect(() => openShards(fakeEnv("DB,DB_1", "DB_9"))).toThrow(/D1_OPEN_SHARDS/);
    expect(() => openShards(fakeEnv("DB,DB_1", "DB_1,DB_9"))).toThrow(/DB_9/); // a typo is not silently ignored
    expect(() => withShard(fakeEnv("DB,DB"), 1)).toThrow(/twice/);
  });
});

async function integration(p: TestProject, templateId: number, action = "create") {
  const r = await call(`/v1/project/${p.id}/integrations`, { auth: p.auth, body: { templateId, action } });
  expect(r.status).toBe(201);
  return r.body.listenerUrl as string;
}

async function hook(url: string, payload: unknown) {
  return call(url.slice(BASE.length), { method: "POST", raw: JSON.stringify(payload), headers: { "content-type": "application/json" } });
}

const count = async (db: D1Database, sql: string, ...args: unknown[]) => (await db.prepare(sql).bind(...args).first<{ n: number }>())!.n;

describe("the Worker over its shards", () => {
  it("hands out identifiers that name the project's shard, and keeps its rows there", async () => {
    const p = await newProject("Sharded");
    const t = await newTemplate(p);
    const url = await integration(p, t);
    const token = url.slice(`${BASE}/hooks/`.length);
    const w = await hook(url, { "pass-id": "m-1", name: "Ada" });
    expect(w.status).toBe(201);
    const pass = (await call(`/v1/pass/${w.body.passId}`, { auth: p.auth })).body;
    const links = (await call(`/v1/pass/${pass.id}/links`, { auth: p.auth })).body;
    const pageToken = String(links.page).split("/p/")[1];
    expect((await call(`/p/${pageToken}`)).status).toBe(200);
    if (!sharded) {
      expect(token).not.toContain(".");
      expect(pass.serialNumber).not.toContain(".");
      expect(pageToken).toMatch(/^[0-9a-z]+\./);
      return;
    }
    expect(token).toMatch(/^1\./);
    expect(pass.serialNumber).toMatch(/^1\.[0-9a-f-]{36}$/);
    expect(pageToken).toMatch(/^1_[0-9a-z]+\./);
    // The directory knows the project and its key; its data is in its shard only.
    expect(await count(env.DIR!, "select count(*) as n from projects where id = ? and shard = 1 and external_id is null", p.id)).toBe(1);
    expect(await count(env.DIR!, "select count(*) as n from api_keys where project_id = ?", p.id)).toBe(1);
    expect(await count(env.DB, "select count(*) as n from api_keys where project_id = ?", p.id)).toBe(0);
    expect(await count(env.DIR!, "select count(*) as n from passes")).toBe(0);
    expect(await count(env.DB, "select count(*) as n from passes where project_id = ?", p.id)).toBe(1);
    // The same token, serial or page under another shard's prefix is nobody's.
    expect((await hook(`${BASE}/hooks/${token.replace(/^1\./, "")}`, { "pass-id": "m-2", name: "X" })).status).toBe(404);
    expect((await hook(`${BASE}/hooks/7.${token.slice(2)}`, { "pass-id": "m-2", name: "X" })).status).toBe(404);
    expect((await call(`/p/${pageToken.slice(2)}`)).status).toBe(404);
  });

  it.runIf(sharded)("serves two projects in two shards side by side, with the same template and pass ids", async () => {
    // Project A the usual way (D1_OPEN_SHARDS puts it in DB, shard 1); project B placed in shard 0.
    const a = await newProject("A");
    const created = await createProject({ ...env, D1_OPEN_SHARDS: "DIR" }, { name: "B" });
    const b: TestProject = { id: created.id, key: created.apiKey.key, auth: basic(created.apiKey.key, created.apiKey.secret) };
    const ta = await newTemplate(a);
    const tb = await newTemplate(b);
    // Integer ids are per shard: each shard's first template can have the same id.
    const idA = await count(env.DB, "select id as n from templates where id = ?", ta);
    expect(idA).toBe(ta);
    const [ua, ub] = [await integration(a, ta, "update"), await integration(b, tb, "update")];
    expect(ua.slice(`${BASE}/hooks/`.length)).toMatch(/^1\./);
    expect(ub.slice(`${BASE}/hooks/`.length)).not.toContain(".");
    // A create, then two updates each, interleaved: the same template id and pass-id in both shards.
    const [ca, cb] = [await integration(a, ta), await integration(b, tb)];
    for (let i = 0; i < 3; i++) {
      expect((await hook(i ? ua : ca, { "pass-id": "same", name: `A${i}`, points: i })).status).toBeLessThan(300);
      expect((await hook(i ? ub : cb, { "pass-id": "same", name: `B${i}`, points: 10 + i })).status).toBeLessThan(300);
    }
    const pa = (await call(`/v1/pass/template/${ta}/id/same`, { auth: a.auth })).body;
    const pb = (await call(`/v1/pass/template/${tb}/id/same`, { auth: b.auth })).body;
    expect(pa.fields).toMatchObject({ name: "A2", points: 2 });
    expect(pb.fields).toMatchObject({ name: "B2", points: 12 });
    expect([pa.version, pb.version]).toEqual([3, 3]);
    expect(pb.serialNumber).not.toContain(".");
    // Each pass's history (its own Durable Object) holds its own three writes.
    for (const [p, pass] of [[a, pa], [b, pb]] as const) {
      const events = (await call(`/v1/pass/${pass.id}/events`, { auth: p.auth })).body.events as { changes: Record<string, unknown> }[];
      expect(events.length).toBe(3);
    }
    expect(await count(env.DIR!, "select count(*) as n from passes where project_id = ?", b.id)).toBe(1);
    expect(await count(env.DB, "select count(*) as n from passes where project_id = ?", b.id)).toBe(0);
    // A key reaches its own project only, whatever shard the other is in.
    expect((await call(`/v1/pass/${pb.id}`, { auth: a.auth })).body.fields?.name).not.toBe("B2");
    expect((await call(`/v1/project/${b.id}`, { auth: a.auth })).status).toBe(404);
  });

  it.runIf(sharded)("asks Apple's 'what changed' of each shard the pass type is in, with a tag per shard", async () => {
    mockNetwork();
    // Two projects with one certificate (staging and production, say), in two shards.
    const a = await appleProject({ apns: false });
    const created = await createProject({ ...env, D1_OPEN_SHARDS: "DIR" }, { name: "B" });
    const b: TestProject = { id: created.id, key: created.apiKey.key, auth: basic(created.apiKey.key, created.apiKey.secret) };
    expect((await call(`/v1/project/${b.id}/credentials/apple`, { method: "PUT", auth: b.auth, body: goodCredentials() })).status).toBe(200);
    const shards = await env.DIR!.prepare("select shard from apple_pass_type_shards where pass_type_id = ? order by shard").bind(PASS_TYPE).all<{ shard: number }>();
    expect(shards.results.map((r) => r.shard)).toEqual([0, 1]);
    const pa = await newPass(a.p, a.templateId, "ea");
    const pb = await newPass(b, await newTemplate(b), "eb");
    expect([pa.serialNumber.startsWith("1."), pb.serialNumber.includes(".")]).toEqual([true, false]);
    const device = "device-in-two-shards";
    expect(await register(pa.serialNumber, device)).toBe(201);
    expect(await register(pb.serialNumber, device)).toBe(201);
    const since = async (tag?: string) => call(`/apple/v1/devices/${device}/registrations/${PASS_TYPE}${tag ? `?passesUpdatedSince=${tag}` : ""}`);

    const first = await since();
    expect(first.status).toBe(200);
    expect([...first.body.serialNumbers].sort()).toEqual([pa.serialNumber, pb.serialNumber].sort());
    const m = /^0-(\d+)\.1-(\d+)$/.exec(first.body.lastUpdated);
    expect(m, first.body.lastUpdated).not.toBeNull();
    // Shard 1's counter runs far ahead of shard 0's (a busy shard, or clock skew between Workers).
    await env.DB.prepare("update apple_registrations set tag = ? where serial_number = ?").bind(Number(m![2]) + 1_000_000, pa.serialNumber).run();
    const second = await since(first.body.lastUpdated);
    expect(second.body.serialNumbers).toEqual([pa.serialNumber]);
    // A later change in shard 0 gets a lower tag than shard 1's latest: it is still listed.
    await env.DIR!.prepare("update apple_registrations set tag = ? where serial_number = ?").bind(Number(m![1]) + 5, pb.serialNumber).run();
    const third = await since(second.body.lastUpdated);
    expect(third.body.serialNumbers).toEqual([pb.serialNumber]);
    expect((await since(third.body.lastUpdated)).status).toBe(204);
    // A plain tag (handed out before sharding) is shard 0's; other shards list from their start.
    expect((await since(m![1])).body.serialNumbers).toEqual([pb.serialNumber, pa.serialNumber]);
  });

  it("never cuts Apple's 'what changed' answer through rows sharing one tag (the next call would skip the rest)", async () => {
    const passType = "pass.test.cut";
    const device = "device-with-many-passes";
    if (sharded) await env.DIR!.prepare("insert into apple_pass_type_shards (pass_type_id, shard, created_at) values (?, 1, 0)").bind(passType).run();
    // 450 passes changed one by one, then a template fan-out page stamping 100 passes with one tag.
    const rows = Array.from({ length: 550 }, (_, i) => ({ serial: `cut-${i}`, tag: i < 450 ? 1_000 + i : 5_000 }));
    const insert = env.DB.prepare(
      "insert into apple_registrations (device_library_id, pass_type_id, serial_number, push_token, pass_id, template_id, project_id, tag, pushed_tag, created_at, updated_at) values (?, ?, ?, 'ab', ?, 1, 'prj_cut', ?, 0, 0, 0)",
    );
    await env.DB.batch(rows.map((r, i) => insert.bind(device, passType, r.serial, i + 1, r.tag)));
    const since = async (tag?: string) => call(`/apple/v1/devices/${device}/registrations/${passType}${tag ? `?passesUpdatedSince=${tag}` : ""}`);
    const first = await since();
    expect(first.body.serialNumbers).toEqual(rows.slice(0, 450).map((r) => r.serial));
    expect(first.body.lastUpdated).toBe(sharded ? "1-1449" : "1449");
    const second = await since(first.body.lastUpdated);
    expect([...second.body.serialNumbers].sort()).toEqual(rows.slice(450).map((r) => r.serial).sort());
    expect((await since(second.body.lastUpdated)).status).toBe(204);
  });
});
