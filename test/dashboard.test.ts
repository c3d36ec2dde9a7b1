/**
 * The dashboard and the holder page, server side: sign-in and its messages, the session cookie's
 * attributes, expiry and revocation, CSRF refusals that change nothing, every page action landing in
 * the same domain verbs as the REST API, API messages on errors, another project's ids answering
 * 404, HTML escaping of hostile values, and the holder page's states. The browser walk-through is
 * test/node/dashboard.browser.test.ts.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { buildApp } from "../src/app";
import { newSession, sealSession, SESSION_TTL } from "../src/dashboard";
import { passPublicToken } from "../src/passes";
import { DashboardClient, text } from "./support/dashboard-client";
import { BASE, call, newPass, newProject, newTemplate, workerEnv, type TestProject } from "./support/http";

const COOKIE = "__Host-passhook_session";

async function setup() {
  const p = await newProject("Dash");
  const r = await call(`/v1/project/${p.id}/keys`, { method: "POST", auth: p.auth });
  const key = r.body as { key: string; secret: string };
  const templateId = await newTemplate(p);
  return { p, key, templateId };
}

async function signedIn(key: { key: string; secret: string }, client = new DashboardClient()) {
  const r = await client.signIn(key.key, key.secret);
  expect(r.status).toBe(303);
  return client;
}

async function integrationOf(p: TestProject, body: Record<string, unknown>) {
  const r = await call(`/v1/project/${p.id}/integrations`, { auth: p.auth, body });
  expect(r.status).toBe(201);
  return r.body as { id: string; listenerUrl: string };
}

describe("sign-in", () => {
  it("signs in with a key and secret: a sealed, HttpOnly, Secure, SameSite=Strict, expiring cookie", async () => {
    const { key } = await setup();
    const c = new DashboardClient();
    const page = await c.get("/dashboard/sign-in");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(page.headers.get("x-frame-options")).toBe("DENY");
    expect(page.headers.get("cache-control")).toBe("no-store");
    const r = await c.post("/dashboard/sign-in", { key: key.key, secret: key.secret });
    expect(r.status).toBe(303);
    expect(r.location).toBe("/dashboard/integrations");
    const line = r.headers.getSetCookie().find((l) => l.startsWith(`${COOKIE}=`))!;
    expect(line).toMatch(/; HttpOnly/);
    expect(line).toMatch(/; Secure/);
    expect(line).toMatch(/; SameSite=Strict/);
    expect(line).toMatch(/; Path=\//);
    expect(line).toContain(`Max-Age=${SESSION_TTL / 1000}`);
    // Sealed: neither the key nor the project id can be read from it.
    expect(line).not.toContain(key.key);
    expect((await c.get("/dashboard/integrations")).status).toBe(200);
  });

  it("answers a wrong secret and an unknown key with the same clear message, and sets no session", async () => {
    const { key } = await setup();
    for (const [k, s] of [
      [key.key, "sk_wrong"],
      ["pk_nobody", key.secret],
    ]) {
      const c = new DashboardClient();
      await c.get("/dashboard/sign-in");
      const r = await c.post("/dashboard/sign-in", { key: k, secret: s });
      expect(r.status).toBe(401);
      expect(text(r.html)).toContain("That API key and secret do not match.");
      expect(c.jar.has(COOKIE)).toBe(false);
    }
  });

  it("rate limits sign-in attempts per address (429 with Retry-After and a message)", async () => {
    const { key } = await setup();
    const c = new DashboardClient("203.0.113.77");
    await c.get("/dashboard/sign-in");
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await c.post("/dashboard/sign-in", { key: key.key, secret: "sk_wrong" })).status);
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    const limited = await c.post("/dashboard/sign-in", { key: key.key, secret: key.secret });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("60");
    expect(text(limited.html)).toContain("Too many sign-in attempts");
    expect(c.jar.has(COOKIE)).toBe(false);
    // Another address is not affected.
    expect((await signedIn(key, new DashboardClient("203.0.113.78"))).jar.has(COOKIE)).toBe(true);
  });

  it("refuses a sign-in form without its token or from another origin", async () => {
    const { key } = await setup();
    const c = new DashboardClient();
    await c.get("/dashboard/sign-in");
    expect((await c.post("/dashboard/sign-in", { key: key.key, secret: key.secret, _csrf: "forged" })).status).toBe(403);
    expect((await c.post("/dashboard/sign-in", { key: key.key, secret: key.secret }, { origin: "https://evil.example" })).status).toBe(403);
    expect(c.jar.has(COOKIE)).toBe(false);
  });
});

describe("sessions", () => {
  it("an expired session (crafted cookie) goes back to sign-in with a message and is cleared", async () => {
    const { p, key } = await setup();
    const c = new DashboardClient();
    const old = newSession(p.id, key.key, Date.now() - SESSION_TTL - 1000);
    c.jar.set(COOKIE, await sealSession(env, old));
    const r = await c.get("/dashboard/integrations");
    expect(r.status).toBe(303);
    expect(r.location).toBe("/dashboard/sign-in?reason=expired");
    expect(c.jar.has(COOKIE)).toBe(false);
    expect(text((await c.get(r.location!)).html)).toContain("Your session has expired.");
  });

  it("expires by the injected clock after SESSION_TTL", async () => {
    const { key } = await setup();
    let now = Date.now();
    const app = buildApp({ dashboard: { now: () => now } });
    const c = await signedIn(key, new DashboardClient(undefined, (url, init) => app.fetch(new Request(url, init), env) as Promise<Response>));
    now += SESSION_TTL - 1000;
    expect((await c.get("/dashboard/passes")).status).toBe(200);
    now += 2000;
    expect((await c.get("/dashboard/passes")).location).toBe("/dashboard/sign-in?reason=expired");
  });

  it("a tampered or foreign-key cookie is no session; a deleted API key ends its sessions", async () => {
    const { p, key } = await setup();
    const c = await signedIn(key);
    const good = c.jar.get(COOKIE)!;
    c.jar.set(COOKIE, good.slice(0, -2) + (good.endsWith("AA") ? "BB" : "AA"));
    expect((await c.get("/dashboard/integrations")).location).toBe("/dashboard/sign-in");
    c.jar.set(COOKIE, good);
    expect((await c.get("/dashboard/integrations")).status).toBe(200);
    expect((await call(`/v1/project/${p.id}/keys/${key.key}`, { method: "DELETE", auth: p.auth })).status).toBe(204);
    expect((await c.get("/dashboard/integrations")).location).toBe("/dashboard/sign-in?reason=revoked");
  });

  it("signs out (a CSRF-checked POST) and clears the cookie", async () => {
    const { key } = await setup();
    const c = await signedIn(key);
    await c.get("/dashboard/integrations");
    expect((await c.post("/dashboard/sign-out", { _csrf: "nope" })).status).toBe(403);
    const out = await c.post("/dashboard/sign-out");
    expect(out.location).toBe("/dashboard/sign-in?reason=signed-out");
    expect(c.jar.has(COOKIE)).toBe(false);
    expect((await c.get("/dashboard/integrations")).location).toBe("/dashboard/sign-in");
  });
});

describe("CSRF on dashboard forms", () => {
  it("refuses a missing token, a wrong token, a cross-site Origin and Sec-Fetch-Site, and changes nothing", async () => {
    const { p, key, templateId } = await setup();
    const i = await integrationOf(p, { templateId, action: "update" });
    const c = await signedIn(key);
    await c.get(`/dashboard/integrations/${i.id}`);
    const path = `/dashboard/integrations/${i.id}/delete`;
    const tries = [
      c.request(path, { method: "POST", body: "confirm=yes", headers: { "content-type": "application/x-www-form-urlencoded", origin: BASE } }),
      c.post(path, { confirm: "yes", _csrf: "x".repeat(43) }),
      c.post(path, { confirm: "yes" }, { origin: "https://evil.example" }),
      c.post(path, { confirm: "yes" }, { origin: "null" }),
      c.request(path, { method: "POST", body: new URLSearchParams({ confirm: "yes", _csrf: c.csrf }).toString(), headers: { "content-type": "application/x-www-form-urlencoded", "sec-fetch-site": "cross-site" } }),
    ];
    for (const r of await Promise.all(tries)) {
      expect(r.status).toBe(403);
      expect(text(r.html)).toContain("CSRF protection");
    }
    expect((await call(`/v1/integration/${i.id}`, { auth: p.auth })).status).toBe(200);
    // The real form, with the token and same-origin: deletes.
    expect((await c.post(path, { confirm: "yes" })).location).toBe("/dashboard/integrations?done=deleted");
    expect((await call(`/v1/integration/${i.id}`, { auth: p.auth })).status).toBe(404);
  });
});

describe("pages act through the domain verbs", () => {
  it("the wizard creates what the REST API then shows, and its listener URL works", async () => {
    const { p, key, templateId } = await setup();
    await newPass(p, templateId, "m-1", { name: "Ada", points: 1 });
    const c = await signedIn(key);
    const step1 = await c.get("/dashboard/integrations/new");
    expect(text(step1.html)).toContain("Update a pass record");
    const step2 = await c.get(`/dashboard/integrations/new?templateId=${templateId}&action=update`);
    expect(step2.html).toContain('name="src.pass-id"');
    expect(step2.html).not.toContain('name="remove.pass-id"');
    const preview = await c.get(`/dashboard/integrations/preview?templateId=${templateId}&action=update&src.pass-id=mid&src.points=loyalty.points&remove.email=on`);
    expect(JSON.parse(preview.html).payload).toMatchObject({ mid: "pass-123", loyalty: { points: 0 } });
    const saved = await c.post("/dashboard/integrations", {
      templateId: String(templateId),
      action: "update",
      intent: "save",
      name: "Till",
      "src.pass-id": "mid",
      "src.points": "loyalty.points",
      "remove.email": "on",
      "src.name": "name",
    });
    expect(saved.status).toBe(201);
    const url = /id="listener-url" readonly="" value="([^"]+)"/.exec(saved.html)![1];
    expect(url).toMatch(/^https:\/\/passhook\.test\/hooks\/(?:[1-9][0-9]*\.)?[A-Za-z0-9_-]{43}$/);
    expect(text(saved.html)).toContain('"mid":"m-1"');
    const list = await call(`/v1/project/${p.id}/integrations`, { auth: p.auth });
    const created = list.body.integrations.find((i: { name: string }) => i.name === "Till");
    expect(created.fieldMapping).toEqual({ "pass-id": "mid", points: "loyalty.points", email: null });
    const hook = await call(new URL(url).pathname, { body: { mid: "m-1", loyalty: { points: 9 } } });
    expect(hook.status).toBe(200);
    expect((await call(`/v1/pass/template/${templateId}/id/m-1`, { auth: p.auth })).body.fields.points).toBe(9);
  });

  it("answers an unknown dashboard page with an HTML 404 inside the dashboard", async () => {
    const { key } = await setup();
    const c = await signedIn(key);
    const r = await c.get("/dashboard/no-such-page");
    expect(r.status).toBe(404);
    expect(r.headers.get("content-type")).toContain("text/html");
    expect(text(r.html)).toContain("There is no such page in the dashboard.");
    // Signed out, the same path is a sign-in redirect, and a POST's body is not read first.
    const stranger = await new DashboardClient().post("/dashboard/integrations/x/delete", { confirm: "yes" }, { "content-type": "text/plain" });
    expect(stranger.status).toBe(303);
    expect(stranger.location).toBe("/dashboard/sign-in");
  });

  it("edits the mapping, disables, rotates and replays, each visible through the REST API", async () => {
    const { p, key, templateId } = await setup();
    await newPass(p, templateId, "m-2");
    const i = await integrationOf(p, { templateId, action: "update" });
    const c = await signedIn(key);
    await c.get(`/dashboard/integrations/${i.id}`);
    expect((await c.post(`/dashboard/integrations/${i.id}/mapping`, { "src.pass-id": "id", "src.points": "pts" })).status).toBe(303);
    expect((await call(`/v1/integration/${i.id}`, { auth: p.auth })).body.fieldMapping).toEqual({ "pass-id": "id", points: "pts" });

    expect((await call(new URL(i.listenerUrl).pathname, { body: { id: "m-2", pts: 4 } })).status).toBe(200);
    await c.get(`/dashboard/integrations/${i.id}/events`);
    const events = (await call(`/v1/integration/${i.id}/events`, { auth: p.auth })).body.events;
    const replay = await c.post(`/dashboard/integrations/${i.id}/events/${events[0].id}/replay`);
    expect(replay.location).toMatch(new RegExp(`^/dashboard/integrations/${i.id}/events\\?replayed=evt_`));
    const after = (await call(`/v1/integration/${i.id}/events`, { auth: p.auth })).body.events;
    expect(after[0]).toMatchObject({ replayOf: events[0].id, statusCode: 200 });

    await c.post(`/dashboard/integrations/${i.id}/enabled`, { enabled: "false" });
    expect((await call(`/v1/integration/${i.id}`, { auth: p.auth })).body.enabled).toBe(false);
    await c.post(`/dashboard/integrations/${i.id}/enabled`, { enabled: "true" });
    const rotated = await c.post(`/dashboard/integrations/${i.id}/rotate`);
    const newUrl = /id="listener-url" readonly="" value="([^"]+)"/.exec(rotated.html)![1];
    expect(newUrl).not.toBe(i.listenerUrl);
    expect((await call(new URL(i.listenerUrl).pathname, { body: { id: "m-2" } })).status).toBe(404);
    expect((await call(new URL(newUrl).pathname, { body: { id: "m-2" } })).status).toBe(200);
  });

  it("status actions show pass-id only; delete needs its confirmation; status filter; redacted bodies", async () => {
    const { p, key, templateId } = await setup();
    const c = await signedIn(key);
    const voidStep = await c.get(`/dashboard/integrations/new?templateId=${templateId}&action=void`);
    expect([...voidStep.html.matchAll(/name="src\.([^"]+)"/g)].map((m) => m[1])).toEqual(["pass-id"]);
    expect(voidStep.html).not.toContain('name="remove.');

    const i = await integrationOf(p, { templateId, action: "update" });
    await c.get(`/dashboard/integrations/${i.id}`);
    const unconfirmed = await c.post(`/dashboard/integrations/${i.id}/delete`);
    expect(unconfirmed.status).toBe(400);
    expect(text(unconfirmed.html)).toContain("Tick the confirmation box");
    expect((await call(`/v1/integration/${i.id}`, { auth: p.auth })).status).toBe(200);

    const live = await newPass(p, templateId, "f-live");
    const gone = await newPass(p, templateId, "f-void");
    await call(`/v1/pass/${gone.id}/status`, { auth: p.auth, body: { status: "voided" } });
    const voided = text((await c.get(`/dashboard/passes?templateId=${templateId}&status=voided`)).html);
    expect(voided).toContain("f-void");
    expect(voided).not.toContain("f-live");
    expect(text((await c.get(`/dashboard/passes?templateId=${templateId}&externalId=f-live`)).html)).toContain(`${live.id}`);
    expect(text((await c.get(`/dashboard/passes?templateId=${templateId}&externalId=nobody`)).html)).toContain('No pass with the ID "nobody"');

    await call(new URL(i.listenerUrl).pathname, { body: { "pass-id": "f-live", password: "hunter2", nested: { api_key: "k-123" } } });
    const log = (await c.get(`/dashboard/integrations/${i.id}/events`)).html;
    expect(log).not.toContain("hunter2");
    expect(log).not.toContain("k-123");
    expect(log).toContain("[redacted]");
  });

  it("shows the API's own message on errors, with its status", async () => {
    const { p, key, templateId } = await setup();
    const i = await integrationOf(p, { templateId, action: "create", signingSecret: "a-long-shared-secret-value" });
    const c = await signedIn(key);
    await c.get("/dashboard/integrations/new");
    const bad = await c.post("/dashboard/integrations", { templateId: String(templateId), action: "create", intent: "save", "src.name": "has space" });
    expect(bad.status).toBe(400);
    expect(text(bad.html)).toContain("The field mapping does not fit this template and action.");
    expect(text(bad.html)).toContain("fieldMapping.name");
    const proto = await c.post("/dashboard/integrations", { templateId: String(templateId), action: "create", intent: "save", "src.name": "__proto__.x" });
    expect(proto.status).toBe(400);
    expect(({} as Record<string, unknown>).x).toBeUndefined();

    // A 401 (unsigned) event cannot be replayed: the API's 409 message.
    expect((await call(new URL(i.listenerUrl).pathname, { body: { "pass-id": "x" } })).status).toBe(401);
    const ev = (await call(`/v1/integration/${i.id}/events`, { auth: p.auth })).body.events[0];
    await c.get(`/dashboard/integrations/${i.id}/events`);
    const refused = await c.post(`/dashboard/integrations/${i.id}/events/${ev.id}/replay`);
    expect(refused.status).toBe(409);
    expect(text(refused.html)).toContain("there is no trusted body to replay");

    await c.get("/dashboard/callbacks");
    const cb = await c.post("/dashboard/callbacks", { baseUrl: "http://127.0.0.1:9000/cb", headers: "Authorization: Bearer x" });
    expect(cb.status).toBe(400);
    expect(text(cb.html)).toContain("The callback specification is invalid.");
    const ok = await c.post("/dashboard/callbacks", { baseUrl: "https://hooks.example.com/cb", headers: "Authorization: Bearer secret-value-123" });
    expect(text(ok.html)).toMatch(/Signing secret \(shown once\)/);
    expect((await call(`/v1/project/${p.id}/settings/callback`, { auth: p.auth })).body).toMatchObject({ baseUrl: "https://hooks.example.com/cb", headers: { Authorization: "Bear****" } });
    expect(text(ok.html)).not.toContain("secret-value-123");
  });

  it("answers another project's ids with 404, and changes nothing of theirs", async () => {
    const mine = await setup();
    const theirs = await setup();
    const pass = await newPass(theirs.p, theirs.templateId, "t-1");
    const i = await integrationOf(theirs.p, { templateId: theirs.templateId, action: "update" });
    const c = await signedIn(mine.key);
    for (const path of [`/dashboard/integrations/${i.id}`, `/dashboard/integrations/${i.id}/events`, `/dashboard/passes/${pass.id}`, "/dashboard/callbacks/deliveries/msg_nothing", `/dashboard/integrations/new?templateId=${theirs.templateId}&action=update`]) {
      const r = await c.get(path);
      expect(r.status === 404 || (path.includes("/new") && !r.html.includes("src.pass-id")), path).toBe(true);
    }
    await c.get("/dashboard/integrations");
    expect((await c.post(`/dashboard/integrations/${i.id}/delete`, { confirm: "yes" })).status).toBe(404);
    expect((await c.get(`/dashboard/passes?templateId=${theirs.templateId}`)).status).toBe(404);
    expect((await call(`/v1/integration/${i.id}`, { auth: theirs.p.auth })).status).toBe(200);
  });

  it("escapes hostile field values on the pass page, the holder page and the event log", async () => {
    const { p, key, templateId } = await setup();
    const hostile = `<script>alert(1)</script>"><img src=x onerror=alert(2)>`;
    const pass = await newPass(p, templateId, "evil-1", { name: hostile });
    const i = await integrationOf(p, { templateId, action: "update" });
    await call(new URL(i.listenerUrl).pathname, { body: { "pass-id": "evil-1", tier: hostile } });
    const c = await signedIn(key);
    const pages = [
      (await c.get(`/dashboard/passes/${pass.id}`)).html,
      (await c.get(`/dashboard/integrations/${i.id}/events`)).html,
      (await c.get(`/p/${await passPublicToken(workerEnv, pass)}`)).html,
    ];
    for (const html of pages) {
      expect(html).not.toContain("<script>alert");
      expect(html).not.toContain("<img src=x");
    }
    expect(pages[0]).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
  });
});

describe("holder page", () => {
  const app = buildApp({ dashboard: { holderWallets: async () => ({ apple: true, google: true }) } });
  const viaApp = (path: string, ua: string) => app.fetch(new Request(`${BASE}${path}`, { headers: { "user-agent": ua } }), env) as Promise<Response>;

  it("404s an unknown, malformed or forged token, and never a stored pass by id alone", async () => {
    const { p, templateId } = await setup();
    const pass = await newPass(p, templateId, "h-0");
    const token = await passPublicToken(workerEnv, pass);
    expect(token).toMatch(/^(?:[1-9][0-9]*_)?[0-9a-z]+\.[A-Za-z0-9_-]{22}$/);
    const [id, tag] = token.split(".");
    const shard = id.slice(0, id.indexOf("_") + 1); // "1_" in the sharded run, else ""
    const other = await newPass(p, templateId, "h-0b");
    for (const t of ["nope", `${id}.`, `${id}.${"A".repeat(22)}`, `${shard}${other.id.toString(36)}.${tag}`, `${id}.${tag}x`, "0.AAAAAAAAAAAAAAAAAAAAAA", "a".repeat(300)]) {
      const r = await call(`/p/${t}`);
      expect(r.status, t).toBe(404);
      expect(String(r.body)).toContain("Pass not found");
    }
    const r = await call(`/p/${token}`);
    expect(r.status).toBe(200);
    expect(r.headers.get("x-robots-tag")).toContain("noindex");
  });

  it("without wallets set up, says so instead of showing a button", async () => {
    const { p, templateId } = await setup();
    const pass = await newPass(p, templateId, "h-1", { name: "Grace", points: 5, email: "grace@example.com" });
    const r = await call(`/p/${await passPublicToken(workerEnv, pass)}`);
    const t = text(String(r.body));
    expect(t).toContain("Grace");
    expect(t).not.toContain("grace@example.com");
    expect(t).toContain("this business has not set up Apple Wallet passes yet");
    expect(t).toContain("this business has not set up Google Wallet passes yet");
    expect(String(r.body)).not.toContain("pass.pkpass");
  });

  it("with wallets set up, links both buttons, the visitor's platform first", async () => {
    const { p, templateId } = await setup();
    const pass = await newPass(p, templateId, "h-2");
    const token = await passPublicToken(workerEnv, pass);
    const iphone = await (await viaApp(`/p/${token}`, "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X)")).text();
    const android = await (await viaApp(`/p/${token}`, "Mozilla/5.0 (Linux; Android 15; Pixel 9)")).text();
    for (const html of [iphone, android]) {
      expect(html).toContain(`href="/p/${token}/pass.pkpass"`);
      expect(html).toContain(`href="/p/${token}/google"`);
      expect(html).toContain('alt="Add to Apple Wallet"');
    }
    expect(iphone.indexOf("pass.pkpass")).toBeLessThan(iphone.indexOf(`/p/${token}/google`));
    expect(android.indexOf(`/p/${token}/google`)).toBeLessThan(android.indexOf("pass.pkpass"));
  });

  it("shows a clear state and no button for voided, expired, redeemed and archived passes", async () => {
    const { p, templateId } = await setup();
    const cases: [string, (id: number) => Promise<unknown>, string][] = [
      ["voided", (id) => call(`/v1/pass/${id}/status`, { auth: p.auth, body: { status: "voided" } }), "This pass has been voided"],
      ["expired", (id) => call(`/v1/pass/${id}/status`, { auth: p.auth, body: { status: "expired" } }), "This pass has expired"],
      ["redeemed", (id) => call(`/v1/pass/${id}/status`, { auth: p.auth, body: { status: "redeemed" } }), "This pass has been redeemed"],
      ["archived", (id) => call(`/v1/pass/${id}`, { method: "DELETE", auth: p.auth }), "This pass is no longer available"],
    ];
    for (const [name, act, heading] of cases) {
      const pass = await newPass(p, templateId, `state-${name}`, { name: "Private Person" });
      await act(pass.id);
      const html = await (await viaApp(`/p/${await passPublicToken(workerEnv, pass)}`, "iPhone")).text();
      expect(text(html), name).toContain(heading);
      expect(html, name).not.toContain("pass.pkpass");
      expect(html, name).not.toContain("/google");
      // A withdrawn or voided pass's link (which cannot be revoked) stops showing the holder's data.
      if (name === "voided" || name === "archived") expect(text(html), name).not.toContain("Private Person");
      else expect(text(html), name).toContain("Private Person");
    }
  });
});
