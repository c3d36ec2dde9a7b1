/**
 * Admin REST API (api.md "Projects and keys", "Templates", "Passes"): happy paths, auth, cross-project
 * 404s, validation with paths, body limits and content types, idempotent replays.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { documentedRoutes } from "../src/api";
import { clientKey } from "../src/lib/client";
import { buildApp } from "../src/app";
import { googleApiRoutes, googleRootRoutes } from "../src/google";
import { appleApiRoutes, appleRoutes } from "../src/apple";
import { listenerRoutes } from "../src/listener";
import { basic, call, LOYALTY_FIELDS, newPass, newProject, newTemplate, operator } from "./support/http";

describe("operations", () => {
  it("answers /health", async () => {
    const r = await call("/health");
    expect(r).toMatchObject({ status: 200, body: { ok: true } });
  });

  it("answers unknown routes with a JSON 404 and wrong methods with 405", async () => {
    const nf = await call("/nope");
    expect(nf.status).toBe(404);
    expect(nf.body.error.code).toBe("not_found");
    const p = await newProject();
    const m = await call(`/v1/project/${p.id}/templates`, { method: "DELETE", auth: p.auth });
    expect(m.status).toBe(405);
    expect(m.body.error.code).toBe("method_not_allowed");
    expect(m.headers.get("allow")).toContain("GET");
  });
});

describe("OpenAPI document", () => {
  it("serves OpenAPI 3.1 with request bodies from the validating schemas", async () => {
    const r = await call("/openapi.json");
    expect(r.status).toBe(200);
    expect(r.body.openapi).toBe("3.1.0");
    const create = r.body.paths["/v1/project/{projectId}/templates"].post;
    expect(create.security).toEqual([{ project: [] }]);
    const schema = create.requestBody.content["application/json"].schema;
    expect(schema.properties.passType.enum).toContain("eventTicket");
    expect(schema.required).toEqual(expect.arrayContaining(["name", "passType", "fields"]));
    expect(r.body.paths["/v1/projects"].post.security).toEqual([{ operator: [] }]);
  });

  it("documents every route the Worker serves, and nothing else", () => {
    const app = buildApp({ root: [listenerRoutes, appleRoutes, googleRootRoutes], api: [appleApiRoutes, googleApiRoutes] });
    const served = app.routes
      .filter((r) => r.method !== "ALL" && !r.path.includes("*"))
      // HTML pages for people (api.md "People (HTML)") are not part of the REST document.
      .filter((r) => !r.path.startsWith("/dashboard") && !r.path.startsWith("/p/"))
      .map((r) => `${r.method} ${r.path}`);
    expect(app.routes.some((r) => r.path === "/p/:token")).toBe(true);
    expect([...new Set(served)].sort()).toEqual(documentedRoutes().map((r) => r.route).sort());
  });
});

describe("every project route", () => {
  it("answers 401 without credentials and 404 to another project's key, changing nothing", async () => {
    // Project A owns one of everything; project B tries every project-scoped route on A's ids.
    const a = await newProject("A");
    const b = await newProject("B");
    const t = await newTemplate(a);
    const pass = await newPass(a, t, "owned");
    const integ = await call(`/v1/project/${a.id}/integrations`, { auth: a.auth, body: { templateId: t, action: "update" } });
    await call(integ.body.listenerUrl.slice("https://passhook.test".length), { method: "POST", raw: '{"pass-id":"owned"}', headers: { "content-type": "application/json" } });
    const event = (await call(`/v1/integration/${integ.body.id}/events`, { auth: a.auth })).body.events[0].id;
    await call(`/v1/project/${a.id}/settings/callback`, { auth: a.auth, body: { baseUrl: "https://hooks.example.com/a" } });
    await call(`/v1/project/${b.id}/settings/callback`, { auth: b.auth, body: { baseUrl: "https://hooks.example.com/b" } });
    const delivery = (await call(`/v1/project/${a.id}/settings/callback/test`, { auth: a.auth, body: { event: "install", passId: pass.id } })).body.deliveryId;
    const ids: Record<string, string> = {
      projectId: a.id,
      templateId: String(t),
      passId: String(pass.id),
      externalId: "owned",
      integrationId: integ.body.id,
      eventId: event,
      deliveryId: delivery,
      key: a.key,
      name: "icon.png",
    };
    // Valid bodies, so a 404 cannot hide behind a 400.
    const bodies: Record<string, unknown> = {
      "POST /v1/project/:projectId/templates": { name: "x", passType: "generic", fields: [] },
      "PUT /v1/template/:templateId": { name: "x", passType: "generic", fields: [] },
      "POST /v1/template/:templateId/pass": { externalId: "intruder", fields: { name: "x" } },
      "PUT /v1/pass/:passId": { fields: { points: 1 } },
      "PUT /v1/pass/template/:templateId/id/:externalId": { fields: { points: 1 } },
      "POST /v1/pass/:passId/status": { status: "voided" },
      "POST /v1/project/:projectId/integrations": { templateId: t, action: "create" },
      "PATCH /v1/integration/:integrationId": { name: "taken over" },
      "POST /v1/project/:projectId/settings/callback": { baseUrl: "https://evil.example.com" },
      "POST /v1/project/:projectId/settings/callback/test": { event: "install", passId: pass.id },
      "POST /v1/project/:projectId/callbacks/recover": { since: "2020-01-01T00:00:00Z" },
    };
    const routes = documentedRoutes().filter((r) => r.auth === "project");
    expect(routes.length).toBeGreaterThan(30);
    for (const r of routes) {
      const path = r.path.replace(/:(\w+)/g, (_, name: string) => encodeURIComponent(ids[name]));
      const body = bodies[r.route];
      const anonymous = await call(path, { method: r.method, body });
      expect(anonymous.status, `${r.route} without credentials`).toBe(401);
      const intruder = await call(path, { method: r.method, body, auth: b.auth });
      expect(intruder.status, `${r.route} with another project's key`).toBe(404);
    }
    // Nothing of A's changed.
    const after = await call(`/v1/pass/${pass.id}`, { auth: a.auth });
    expect(after.body).toMatchObject({ status: "active", version: pass.version, archivedAt: null });
    expect((await call(`/v1/template/${t}`, { auth: a.auth })).body.name).toBe("Loyalty");
    expect((await call(`/v1/integration/${integ.body.id}`, { auth: a.auth })).body.name).not.toBe("taken over");
    expect((await call(`/v1/project/${a.id}/settings/callback`, { auth: a.auth })).body.baseUrl).toBe("https://hooks.example.com/a");
    expect((await call(`/v1/project/${a.id}`, { auth: a.auth })).status).toBe(200);
  });
});

describe("projects and keys", () => {
  it("creates a project only with the operator token", async () => {
    const none = await call("/v1/projects", { body: { name: "x" } });
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toContain("Bearer");
    const wrong = await call("/v1/projects", { body: { name: "x" }, auth: "Bearer nope" });
    expect(wrong.status).toBe(401);
    const ok = await call("/v1/projects", { body: { name: "Shop", externalId: "shop-1" }, auth: operator() });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ name: "Shop", externalId: "shop-1" });
    expect(ok.body.id).toMatch(/^prj_/);
    expect(ok.body.apiKey.key).toMatch(/^pk_/);
    expect(ok.body.apiKey.secret).toMatch(/^sk_/);
    const dup = await call("/v1/projects", { body: { name: "Shop", externalId: "shop-1" }, auth: operator() });
    expect(dup.status).toBe(409);
  });

  it("stores API secrets hashed, never in the clear", async () => {
    const p = await call("/v1/projects", { body: { name: "Hash" }, auth: operator() });
    const row = await (env.DIR ?? env.DB).prepare("select secret_hash from api_keys where key = ?").bind(p.body.apiKey.key).first<{ secret_hash: string }>();
    expect(row?.secret_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(row?.secret_hash).not.toContain(p.body.apiKey.secret);
  });

  it("authenticates with Basic key:secret and hides other projects behind 404", async () => {
    const a = await newProject("A");
    const b = await newProject("B");
    expect((await call(`/v1/project/${a.id}`, { auth: a.auth })).status).toBe(200);
    expect((await call(`/v1/project/${b.id}`, { auth: a.auth })).status).toBe(404);
    const bad = await call(`/v1/project/${a.id}`, { auth: basic(a.key, "sk_wrong") });
    expect(bad.status).toBe(401);
    expect(bad.headers.get("www-authenticate")).toContain("Basic");
    expect((await call(`/v1/project/${a.id}`)).status).toBe(401);
    const tb = await newTemplate(b);
    expect((await call(`/v1/template/${tb}`, { auth: a.auth })).status).toBe(404);
    const pass = await newPass(b, tb, "b-1");
    expect((await call(`/v1/pass/${pass.id}`, { auth: a.auth })).status).toBe(404);
    expect((await call(`/v1/pass/${pass.id}`, { method: "PUT", auth: a.auth, body: { fields: { name: "x" } } })).status).toBe(404);
    expect((await call(`/v1/template/${tb}/pass`, { auth: a.auth, body: { fields: { name: "x" } } })).status).toBe(404);
  });

  it("never deletes the last key, even when two deletes race", async () => {
    const p = await newProject();
    const k = await call(`/v1/project/${p.id}/keys`, { method: "POST", auth: p.auth });
    const second = basic(k.body.key, k.body.secret);
    const [a, b] = await Promise.all([
      call(`/v1/project/${p.id}/keys/${p.key}`, { method: "DELETE", auth: second }),
      call(`/v1/project/${p.id}/keys/${k.body.key}`, { method: "DELETE", auth: p.auth }),
    ]);
    expect([a.status, b.status].sort()).toEqual([204, 409]);
    const left = await (env.DIR ?? env.DB).prepare("select count(*) as n from api_keys where project_id = ?").bind(p.id).first<{ n: number }>();
    expect(left?.n).toBe(1);
  });

  it("creates and deletes keys, but never the last one", async () => {
    const p = await newProject();
    const k = await call(`/v1/project/${p.id}/keys`, { method: "POST", auth: p.auth });
    expect(k.status).toBe(201);
    const second = basic(k.body.key, k.body.secret);
    expect((await call(`/v1/project/${p.id}`, { auth: second })).status).toBe(200);
    expect((await call(`/v1/project/${p.id}/keys/${p.key}`, { method: "DELETE", auth: second })).status).toBe(204);
    expect((await call(`/v1/project/${p.id}`, { auth: p.auth })).status).toBe(401);
    const last = await call(`/v1/project/${p.id}/keys/${k.body.key}`, { method: "DELETE", auth: second });
    expect(last.status).toBe(409);
    expect((await call(`/v1/project/${p.id}/keys/pk_unknown`, { method: "DELETE", auth: second })).status).toBe(404);
  });
});

describe("failed authentication", () => {
  it("counts an IPv6 client by its /64, and an IPv4 one by its address", () => {
    expect(clientKey("2001:db8:1:2::1d")).toBe("2001:db8:1:2::/64");
    expect(clientKey("2001:0DB8:0001:0002:0000:0000:0000:0001")).toBe("2001:db8:1:2::/64");
    expect(clientKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(clientKey("::1")).toBe("0:0:0:0::/64");
    expect(clientKey("::ffff:203.0.113.9")).toBe("203.0.113.9");
    expect(clientKey("203.0.113.9")).toBe("203.0.113.9");
    expect(clientKey(undefined)).toBeUndefined();
  });

  it("shares one budget across an IPv6 /64 and with the dashboard's sign-in, and limits the operator routes too", async () => {
    const p = await newProject("Guessed6");
    const codes: number[] = [];
    for (let k = 0; k < 30 && !codes.includes(429); k++) {
      const from = { "cf-connecting-ip": `2001:db8:77:1::${(k + 1).toString(16)}` };
      codes.push((await call(`/v1/project/${p.id}`, { auth: basic(p.key, `sk_guess_${k}`), headers: from })).status);
    }
    expect(codes.at(-1)).toBe(429);
    // Another address of the same /64, on the operator's canary route.
    const canary = await call("/v1/operator/apns-canary", { method: "POST", auth: "Bearer wrong", headers: { "cf-connecting-ip": "2001:db8:77:1::ffff" }, body: {} });
    expect(canary.status).toBe(429);
    // A wrong operator token from a fresh address is a 401, and spends that address's budget.
    const fresh: number[] = [];
    for (let k = 0; k < 30 && !fresh.includes(429); k++) {
      fresh.push((await call("/v1/operator/apns-canary", { method: "POST", auth: "Bearer wrong", headers: { "cf-connecting-ip": "198.51.100.23" }, body: {} })).status);
    }
    expect(fresh[0]).toBe(401);
    expect(fresh.at(-1)).toBe(429);
  });

  it("slows an address that keeps sending wrong credentials: 429 for a minute, even with the right ones", async () => {
    const p = await newProject("Guessed");
    const from = { "cf-connecting-ip": "203.0.113.77" };
    const codes: number[] = [];
    // The test budget is 10 a minute (vitest.config.ts); Cloudflare's counters are approximate, so allow slack.
    for (let k = 0; k < 30 && !codes.includes(429); k++) {
      codes.push((await call(`/v1/project/${p.id}`, { auth: basic(p.key, `sk_guess_${k}`), headers: from })).status);
    }
    expect(codes.filter((c) => c === 401).length).toBeGreaterThanOrEqual(5);
    expect(codes.at(-1)).toBe(429);
    const right = await call(`/v1/project/${p.id}`, { auth: p.auth, headers: from });
    expect(right.status).toBe(429);
    expect(right.headers.get("retry-after")).toBe("60");
    expect(right.body.error.code).toBe("rate_limited");
    // Other addresses, and requests without credentials, are not affected.
    expect((await call(`/v1/project/${p.id}`, { auth: p.auth, headers: { "cf-connecting-ip": "203.0.113.78" } })).status).toBe(200);
    expect((await call(`/v1/project/${p.id}`, { headers: { "cf-connecting-ip": "203.0.113.79" } })).status).toBe(401);
  });
});

describe("templates", () => {
  it("creates, lists, reads, replaces and deletes", async () => {
    const p = await newProject();
    const id = await newTemplate(p);
    const list = await call(`/v1/project/${p.id}/templates`, { auth: p.auth });
    expect(list.body.templates.map((t: { id: number }) => t.id)).toEqual([id]);
    const got = await call(`/v1/template/${id}`, { auth: p.auth });
    expect(got.body).toMatchObject({ id, projectId: p.id, passType: "loyalty", name: "Loyalty" });
    expect(got.body.fields).toHaveLength(LOYALTY_FIELDS.length);
    const put = await call(`/v1/template/${id}`, {
      method: "PUT",
      auth: p.auth,
      body: { name: "Renamed", passType: "coupon", fields: [{ key: "code", label: "Code", type: "barcode" }] },
    });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ name: "Renamed", passType: "coupon" });
    expect((await call(`/v1/template/${id}`, { method: "DELETE", auth: p.auth })).status).toBe(204);
    expect((await call(`/v1/template/${id}`, { auth: p.auth })).status).toBe(404);
  });

  it("refuses to delete a template that has passes", async () => {
    const p = await newProject();
    const id = await newTemplate(p);
    await newPass(p, id, "keep");
    const r = await call(`/v1/template/${id}`, { method: "DELETE", auth: p.auth });
    expect(r.status).toBe(409);
  });

  it("validates with field paths in details", async () => {
    const p = await newProject();
    const r = await call(`/v1/project/${p.id}/templates`, {
      auth: p.auth,
      body: {
        name: "",
        passType: "poster",
        fields: [
          { key: "Bad Key", label: "x", type: "text" },
          { key: "pass-id", label: "x", type: "text" },
        ],
      },
    });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("validation_failed");
    const paths = r.body.error.details.issues.map((i: { path: string }) => i.path);
    expect(paths).toEqual(expect.arrayContaining(["name", "passType", "fields.0.key", "fields.1.key"]));
    const second = await call(`/v1/project/${p.id}/templates`, {
      auth: p.auth,
      body: {
        name: "ok",
        passType: "generic",
        fields: [
          { key: "n", label: "N", type: "number", default: "many" },
          { key: "n", label: "N again", type: "text" },
        ],
      },
    });
    expect(second.status).toBe(400);
    expect(second.body.error.details.issues.map((i: { path: string }) => i.path)).toEqual(["fields.0.default", "fields.1.key"]);
  });
});

describe("request bodies", () => {
  it("rejects non-JSON with 415, malformed JSON with 400 and large bodies with 413", async () => {
    const p = await newProject();
    const url = `/v1/project/${p.id}/templates`;
    const form = await call(url, { method: "POST", auth: p.auth, raw: "name=x", headers: { "content-type": "text/plain" } });
    expect(form.status).toBe(415);
    expect(form.body.error.code).toBe("unsupported_media_type");
    const broken = await call(url, { method: "POST", auth: p.auth, raw: "{nope", headers: { "content-type": "application/json" } });
    expect(broken.status).toBe(400);
    expect(broken.body.error.code).toBe("invalid_json");
    const big = await call(url, {
      auth: p.auth,
      body: { name: "x".repeat(300 * 1024), passType: "generic", fields: [] },
    });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe("payload_too_large");
    const list = await call(url, { auth: p.auth });
    expect(list.body.templates).toEqual([]);
  });
});

describe("passes", () => {
  it("creates with coerced fields and defaults, reads by id and by externalId", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const r = await call(`/v1/template/${t}/pass`, {
      auth: p.auth,
      body: { externalId: "m-1", fields: { name: "Ada", tier: 7, expires: "2027-01-31T10:00:00+02:00", site: "https://ex.com/a" } },
    });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      templateId: t,
      projectId: p.id,
      externalId: "m-1",
      status: "active",
      version: 1,
      archivedAt: null,
      fields: { name: "Ada", tier: "7", points: 0, expires: "2027-01-31T08:00:00.000Z", site: "https://ex.com/a" },
    });
    expect(Number.isInteger(r.body.id)).toBe(true);
    expect(r.body.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(r.body).not.toHaveProperty("authenticationToken");
    expect((await call(`/v1/pass/${r.body.id}`, { auth: p.auth })).body.externalId).toBe("m-1");
    expect((await call(`/v1/pass/template/${t}/id/m-1`, { auth: p.auth })).body.id).toBe(r.body.id);
    const dup = await call(`/v1/template/${t}/pass`, { auth: p.auth, body: { externalId: "m-1", fields: { name: "Ada" } } });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe("already_exists");
  });

  it("generates an externalId when none is given", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const r = await call(`/v1/template/${t}/pass`, { auth: p.auth, body: { fields: { name: "Bo" } } });
    expect(r.status).toBe(201);
    expect(r.body.externalId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("rejects unknown fields, wrong types and missing required fields with paths, writing nothing", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const r = await call(`/v1/template/${t}/pass`, {
      auth: p.auth,
      body: { externalId: "bad", fields: { points: "lots", email: "nope", colour: "red", expires: "tomorrow", site: "ftp://x" } },
    });
    expect(r.status).toBe(400);
    const paths = r.body.error.details.issues.map((i: { path: string }) => i.path).sort();
    expect(paths).toEqual(["fields.colour", "fields.email", "fields.expires", "fields.name", "fields.points", "fields.site"].sort());
    const count = await env.DB.prepare("select count(*) as n from passes where external_id = 'bad'").first<{ n: number }>();
    expect(count?.n).toBe(0);
  });

  it("answers 400, not 500, for numbers and dates out of range or impossible", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const cases: [Record<string, unknown>, string][] = [
      [{ name: "A", expires: 1e20 }, "fields.expires"],
      [{ name: "A", points: "1e400" }, "fields.points"],
      [{ name: "A", expires: "2024-02-30T00:00Z" }, "fields.expires"],
      [{ name: "A", expires: "2024-02-29T24:30Z" }, "fields.expires"],
      [{ name: "A", expires: "2023-02-29" }, "fields.expires"],
    ];
    for (const [fields, path] of cases) {
      const r = await call(`/v1/template/${t}/pass`, { auth: p.auth, body: { externalId: "range", fields } });
      expect(r.status, JSON.stringify(fields)).toBe(400);
      expect(r.body.error.details.issues[0].path).toBe(path);
    }
    const leap = await call(`/v1/template/${t}/pass`, { auth: p.auth, body: { externalId: "leap", fields: { name: "A", expires: "2024-02-29T23:59:59Z" } } });
    expect(leap.body.fields.expires).toBe("2024-02-29T23:59:59.000Z");
    const badDefault = await call(`/v1/project/${p.id}/templates`, {
      auth: p.auth,
      body: { name: "d", passType: "generic", fields: [{ key: "d", label: "D", type: "date", default: 1e20 }] },
    });
    expect(badDefault.status).toBe(400);
  });

  it("merges fields on PUT, clears with null, and bumps the version only on change", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const pass = await newPass(p, t, "merge", { name: "Ada", tier: "gold" });
    const u = await call(`/v1/pass/${pass.id}`, { method: "PUT", auth: p.auth, body: { fields: { points: "12", tier: null } } });
    expect(u.status).toBe(200);
    expect(u.body.version).toBe(2);
    expect(u.body.fields).toEqual({ name: "Ada", points: 12 });
    const same = await call(`/v1/pass/template/${t}/id/merge`, { method: "PUT", auth: p.auth, body: { fields: { points: 12 } } });
    expect(same.body.version).toBe(2);
    const clearRequired = await call(`/v1/pass/${pass.id}`, { method: "PUT", auth: p.auth, body: { fields: { name: null } } });
    expect(clearRequired.status).toBe(400);
    const missing = await call(`/v1/pass/template/${t}/id/nobody`, { method: "PUT", auth: p.auth, body: { fields: { points: 1 } } });
    expect(missing.status).toBe(404);
  });

  it("lists passes of a template with a cursor", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    for (const id of ["l1", "l2", "l3"]) await newPass(p, t, id);
    const first = await call(`/v1/template/${t}/passes?limit=2`, { auth: p.auth });
    expect(first.body.passes.map((x: { externalId: string }) => x.externalId)).toEqual(["l1", "l2"]);
    expect(first.body.nextCursor).toBeTruthy();
    const second = await call(`/v1/template/${t}/passes?limit=2&cursor=${first.body.nextCursor}`, { auth: p.auth });
    expect(second.body.passes.map((x: { externalId: string }) => x.externalId)).toEqual(["l3"]);
    expect(second.body.nextCursor).toBeNull();
    expect((await call(`/v1/template/${t}/passes?limit=500`, { auth: p.auth })).status).toBe(400);
  });

  it("archives: DELETE returns the archived pass and later writes answer 410", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const pass = await newPass(p, t, "arch");
    const a = await call(`/v1/pass/${pass.id}`, { method: "DELETE", auth: p.auth });
    expect(a.status).toBe(200);
    expect(a.body.archivedAt).not.toBeNull();
    expect(a.body.status).toBe("active");
    const w = await call(`/v1/pass/${pass.id}`, { method: "PUT", auth: p.auth, body: { fields: { points: 1 } } });
    expect(w.status).toBe(410);
    expect(w.body.error.code).toBe("pass_archived");
    expect((await call(`/v1/pass/${pass.id}/status`, { auth: p.auth, body: { status: "expired" } })).status).toBe(410);
    expect((await call(`/v1/pass/${pass.id}`, { method: "DELETE", auth: p.auth })).status).toBe(410);
    const recreate = await call(`/v1/template/${t}/pass`, { auth: p.auth, body: { externalId: "arch", fields: { name: "Again" } } });
    expect(recreate.status).toBe(410);
    expect((await call(`/v1/pass/${pass.id}`, { auth: p.auth })).body.archivedAt).toBe(a.body.archivedAt);
  });
});

describe("Idempotency-Key", () => {
  it("replays the first response and runs the write once", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const req = { auth: p.auth, body: { externalId: "idem", fields: { name: "Ada" } }, headers: { "idempotency-key": "k-1" } };
    const first = await call(`/v1/template/${t}/pass`, req);
    const again = await call(`/v1/template/${t}/pass`, req);
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    const other = await call(`/v1/template/${t}/pass`, { ...req, body: { externalId: "idem-2", fields: { name: "Bo" } } });
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe("idempotency_conflict");
  });

  it("keeps stored responses encrypted: a replayed key secret is not readable at rest", async () => {
    const p = await newProject();
    const req = { method: "POST", auth: p.auth, headers: { "idempotency-key": "new-key-1" } };
    const first = await call(`/v1/project/${p.id}/keys`, req);
    const again = await call(`/v1/project/${p.id}/keys`, req);
    expect(first.status).toBe(201);
    expect(again.body).toEqual(first.body);
    const row = await env.DB.prepare("select response_body from idempotency_keys where key = 'new-key-1'").first<{ response_body: string }>();
    expect(row!.response_body).toMatch(/^v1\./);
    expect(row!.response_body).not.toContain(first.body.secret);
    // Another project using the same key string gets its own record, not this one.
    const other = await newProject();
    const theirs = await call(`/v1/project/${other.id}/keys`, { ...req, auth: other.auth });
    expect(theirs.status).toBe(201);
    expect(theirs.headers.get("idempotent-replayed")).toBeNull();
    expect(theirs.body.secret).not.toBe(first.body.secret);
  });

  it("reclaims a key whose first request died mid-way, after a minute", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const stuck = Date.now() - 2 * 60 * 1000;
    await env.DB.prepare("insert into idempotency_keys (scope, key, fingerprint, state, created_at) values (?, 'died', 'x', 'processing', ?)").bind(p.id, stuck).run();
    const req = (key: string) => ({ auth: p.auth, body: { externalId: key, fields: { name: "A" } }, headers: { "idempotency-key": key } });
    // The fingerprint the middleware computes: SHA-256 of method, path and body.
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`POST /v1/template/${t}/pass\n${JSON.stringify(req("running").body)}`));
    const fingerprint = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
    await env.DB.prepare("insert into idempotency_keys (scope, key, fingerprint, state, created_at) values (?, 'running', ?, 'processing', ?)")
      .bind(p.id, fingerprint, Date.now())
      .run();
    expect((await call(`/v1/template/${t}/pass`, req("died"))).status).toBe(201);
    const busy = await call(`/v1/template/${t}/pass`, req("running"));
    expect(busy.status).toBe(409);
    expect(busy.body.error.message).toContain("still being processed");
  });

  it("replays for 24 hours and no longer", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const req = (key: string) => ({ auth: p.auth, body: { externalId: key, fields: { name: "A" } }, headers: { "idempotency-key": key } });
    const age = (key: string, hours: number) =>
      env.DB.prepare("update idempotency_keys set created_at = ? where key = ?").bind(Date.now() - hours * 3600 * 1000, key).run();
    expect((await call(`/v1/template/${t}/pass`, req("day-23"))).status).toBe(201);
    expect((await call(`/v1/template/${t}/pass`, req("day-25"))).status).toBe(201);
    await age("day-23", 23);
    await age("day-25", 25);
    const within = await call(`/v1/template/${t}/pass`, req("day-23"));
    expect(within.status).toBe(201);
    expect(within.headers.get("idempotent-replayed")).toBe("true");
    const expired = await call(`/v1/template/${t}/pass`, req("day-25"));
    expect(expired.headers.get("idempotent-replayed")).toBeNull();
    expect(expired.status).toBe(409); // it ran again: the pass exists now
  });

  it("replays an error response too", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const req = { auth: p.auth, body: { externalId: "e", fields: {} }, headers: { "idempotency-key": "k-err" } };
    const first = await call(`/v1/template/${t}/pass`, req);
    const again = await call(`/v1/template/${t}/pass`, req);
    expect(first.status).toBe(400);
    expect(again.status).toBe(400);
    expect(again.body).toEqual(first.body);
  });
});
