/**
 * The dashboard in a real browser (Debian's Chromium via playwright-core) against the real Worker on
 * the local runtime. Walks WalletThat's seven steps (sign in; Integrations; create; template; action;
 * review, rename and remove fields; save and copy the listener URL), posts to the copied URL as the
 * third-party system would, sees the pass change, replays an event, registers a callback server and
 * sends a test; then CSRF (a form on another origin is refused), session expiry and sign-out. axe-core
 * runs on every page (no serious or critical violations); each step is saved as a screenshot.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { Webhook } from "standardwebhooks";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { decodeSvgQr, launchBrowser, seriousA11yViolations, type BrowserContext, type LaunchedBrowser, type Page } from "./support/browser";
import { fromRoot } from "./support/repo";
import { startPage, startReceiver, waitFor, type LocalServer, type Received } from "./support/servers";
import { createProject, startWorker, TEST_SECRETS, type RunningWorker } from "./support/worker";

// Every run saves a screenshot of each step in .screenshots/ (git-ignored); UPDATE_SCREENSHOTS=1
// writes them to docs/screenshots/ instead, the committed copies the README shows.
const SHOTS = process.env.UPDATE_SCREENSHOTS === "1" ? fromRoot("docs", "screenshots") : fromRoot(".screenshots");
const FIELDS = [
  { key: "name", label: "Member", type: "text", required: true },
  { key: "points", label: "Points", type: "number", default: 0 },
  { key: "tier", label: "Tier", type: "text", default: "bronze" },
  { key: "email", label: "Email", type: "email" },
];

let worker: RunningWorker;
let receiver: LocalServer & { received: Received[] };
let launched: LaunchedBrowser;
let ctx: BrowserContext;
let page: Page;
let project: { id: string; key: string; secret: string };
let auth: string;
let templateId: number;
let passId: number;
let integrationId: string;
let listenerUrl: string;

/** Waits for a page condition (Playwright's own matchers live in @playwright/test, not playwright-core). */
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 15_000, interval: 100 });

async function api(path: string, init: { method?: string; body?: unknown } = {}) {
  const res = await fetch(`${worker.url}${path}`, {
    method: init.method ?? (init.body ? "POST" : "GET"),
    headers: { authorization: auth, ...(init.body ? { "content-type": "application/json" } : {}) },
    body: init.body ? JSON.stringify(init.body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function check(p: Page, shot: string | null) {
  expect(await seriousA11yViolations(p), `axe on ${p.url()}`).toEqual([]);
  if (shot) await p.screenshot({ path: `${SHOTS}/${shot}.png`, fullPage: true });
}

async function signIn(p: Page, secret = project.secret) {
  await p.goto(`${worker.url}/dashboard/sign-in`);
  await p.getByLabel("API key").fill(project.key);
  await p.getByLabel("API secret").fill(secret);
  await p.getByRole("button", { name: "Sign in" }).click();
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  [worker, receiver, launched] = await Promise.all([startWorker({ ALLOW_INSECURE_CALLBACKS: "true" }), startReceiver(), launchBrowser()]);
  ctx = launched.browser;
  ctx.setDefaultTimeout(15_000);
  page = ctx.pages()[0] ?? (await ctx.newPage());
  project = await createProject(worker.url, "Riverside Coffee");
  auth = `Basic ${Buffer.from(`${project.key}:${project.secret}`).toString("base64")}`;
  const t = await api(`/v1/project/${project.id}/templates`, { body: { name: "Coffee card", passType: "loyalty", fields: FIELDS } });
  templateId = t.body.id;
  const p = await api(`/v1/template/${templateId}/pass`, { body: { externalId: "member-1", fields: { name: "Ada", points: 10, email: "ada@example.com" } } });
  passId = p.body.id;
}, 60_000);

let failed = false;
afterEach((ctx) => {
  if (ctx.task.result?.state === "fail") failed = true;
});

afterAll(async () => {
  if (failed) console.log(`Worker log (last lines):\n${worker?.logs().slice(-40).join("\n")}`);
  await Promise.all([launched?.close(), receiver?.close(), worker?.stop()]);
});

describe("the seven steps, in a browser", () => {
  it("1. signs in with the project's API key and secret (a wrong secret gets a clear message)", async () => {
    await page.goto(`${worker.url}/dashboard`);
    await poll(() => page.url()).toContain("/dashboard/sign-in");
    await check(page, "01-sign-in");
    await signIn(page, "sk_wrong");
    await poll(() => page.getByRole("alert").innerText()).toContain("do not match");
    await signIn(page);
    await poll(() => page.getByRole("heading", { level: 1 }).innerText()).toBe("Integrations");
    const cookie = (await ctx.cookies(worker.url)).find((c) => c.name === "passhook_session");
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Strict", secure: false, path: "/" });
    expect(cookie!.expires - Date.now() / 1000).toBeGreaterThan(7 * 3600);
  });

  it("2-4. opens Integrations, starts a new one, chooses a template and the update action", async () => {
    await check(page, "02-integrations");
    await page.getByRole("link", { name: "New integration" }).click();
    await page.getByLabel("Pass template").selectOption(String(templateId));
    await page.getByLabel("Action").selectOption("update");
    await check(page, "03-template-and-action");
    await page.getByRole("button", { name: "Next: review fields" }).click();
    await page.getByRole("table", { name: "Fields the sender posts" }).waitFor({ state: "visible" });
  });

  it("5. reviews the fields: renames two, removes one; pass-id cannot be removed; the preview follows", async () => {
    const passIdRow = page.getByRole("row", { name: /Pass ID/ });
    await poll(() => passIdRow.getByRole("checkbox").count()).toBe(0);
    await poll(() => passIdRow.innerText()).toContain("Always sent");
    await page.getByLabel("Sender's key for Pass ID").fill("member_id");
    await page.getByLabel("Sender's key for Points").fill("loyalty.points");
    await page.getByLabel("Remove Email").check();
    // The preview settles on the payload the three edits describe (it refreshes after each input).
    const preview = page.locator("#payload-preview");
    await poll(async () => {
      const shown = await preview.innerText();
      return shown.includes('"member_id"') && shown.includes('"loyalty": {') && !shown.includes("email");
    }).toBe(true);
    await page.getByLabel("Name (optional)").fill("Till points");
    await check(page, "04-review-fields");
  });

  it("fits a phone: the same step at 390 px wide scrolls only inside its table", async () => {
    const phone = await ctx.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(`${worker.url}/dashboard/integrations/new?templateId=${templateId}&action=update`);
    await phone.getByRole("table", { name: "Fields the sender posts" }).waitFor({ state: "visible" });
    const wide = await phone.evaluate(() =>
      Array.from(document.querySelectorAll("body *"))
        .filter((e) => !e.closest(".table-wrap") && e.getBoundingClientRect().right > window.innerWidth + 1)
        .map((e) => `${e.tagName.toLowerCase()}.${e.className}`),
    );
    expect(wide).toEqual([]);
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await check(phone, "04b-review-fields-phone");
    await phone.close();
    await page.bringToFront();
  });

  it("6. saves and shows the listener URL once, with a copy button and a ready curl", async () => {
    await page.getByRole("button", { name: "Save integration" }).click();
    await poll(() => page.getByRole("heading", { level: 1 }).innerText()).toBe("Integration saved");
    listenerUrl = await page.getByLabel("Listener URL").inputValue();
    expect(listenerUrl).toMatch(new RegExp(`^${worker.url}/hooks/[A-Za-z0-9_-]{43}$`));
    await ctx.grantPermissions(["clipboard-read", "clipboard-write"], { origin: worker.url });
    await page.getByRole("button", { name: "Copy URL" }).click();
    await page.getByRole("button", { name: "Copied" }).waitFor({ state: "visible" });
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(listenerUrl);
    await check(page, "05-listener-url");
    const list = await api(`/v1/project/${project.id}/integrations`);
    const created = list.body.integrations.find((i: { name: string }) => i.name === "Till points");
    expect(created).toMatchObject({ action: "update", templateId, fieldMapping: { "pass-id": "member_id", points: "loyalty.points", email: null } });
    integrationId = created.id;
  });

  it("7. the third-party system posts the ready curl's body to the URL, and the pass changes in the passes view", async () => {
    const curl = await page.getByLabel("Try it from a terminal").inputValue();
    const body = /-d '([^']*)'/.exec(curl)![1];
    expect(curl).toContain(`'${listenerUrl}'`);
    // The pass's own values, points raised by 10; email removed from the mapping.
    expect(JSON.parse(body)).toEqual({ member_id: "member-1", name: "Ada", loyalty: { points: 20 }, tier: "bronze" });
    const res = await fetch(listenerUrl, { method: "POST", headers: { "content-type": "application/json" }, body });
    expect(res.status).toBe(200);

    await page.getByRole("link", { name: "Passes" }).click();
    await page.getByLabel("Pass ID (externalId)").fill("member-1");
    await page.getByRole("button", { name: "Show passes" }).click();
    await check(page, "06-passes");
    await page.getByRole("link", { name: "member-1" }).click();
    await poll(() => page.getByRole("row", { name: /Points/ }).innerText()).toContain("20");
    await poll(() => page.getByRole("table", { name: /history/ }).innerText()).toContain(`listener:${integrationId}`);
    await page.getByRole("img", { name: /QR code of the holder page/ }).waitFor({ state: "visible" });
    expect(await decodeSvgQr(page, "svg.qr")).toBe(await page.getByLabel("Holder page (email or text this link)").inputValue());
    await check(page, "07-pass-detail");
  });

  it("replays a logged event with one click", async () => {
    await page.goto(`${worker.url}/dashboard/integrations/${integrationId}`);
    await page.getByRole("link", { name: "Event log and replay" }).click();
    await poll(() => page.getByRole("table").innerText()).toContain("200");
    await page.getByRole("button", { name: /^Replay event/ }).first().click();
    await poll(() => page.getByRole("status").innerText()).toContain("Replayed as");
    await poll(() => page.locator("tbody tr").count()).toBe(2);
    await poll(() => page.locator("tr.highlight").innerText()).toContain("replay of");
    await check(page, "08-event-log");
  });

  it("registers a callback server and sends a test event that arrives signed; resend sends it again", async () => {
    await page.getByRole("link", { name: "Callbacks" }).click();
    await page.getByLabel("Base URL").fill(`${receiver.url}/cb`);
    await page.getByLabel(/Headers/).fill("Authorization: Bearer receiver-token");
    await page.getByRole("button", { name: "Register" }).click();
    const secret = await page.getByLabel("Signing secret").inputValue();
    expect(secret).toMatch(/^whsec_/);
    await page.getByLabel("Pass # (number)").fill(String(passId));
    await page.getByRole("button", { name: "Send test" }).click();
    await poll(() => page.getByRole("status").innerText()).toContain("Test event queued");
    const first = await waitFor("the test delivery", () => receiver.received.find((r) => r.url === "/cb/v1/pass/install"));
    expect(first.headers.authorization).toBe("Bearer receiver-token");
    const verified = new Webhook(secret).verify(first.body, first.headers as Record<string, string>) as { passId: number };
    expect(verified.passId).toBe(passId);

    await waitFor("the log to say succeeded", async () => {
      await page.reload();
      return (await page.locator("tbody").textContent())?.includes("succeeded") ? true : undefined;
    });
    await check(page, "09-callbacks");
    await page.locator("tbody tr").first().getByRole("link").first().click();
    await page.getByRole("heading", { name: "Attempts" }).waitFor({ state: "visible" });
    await check(page, "10-delivery");
    await page.getByRole("button", { name: "Resend" }).click();
    await waitFor("the resent delivery", () => (receiver.received.filter((r) => r.headers["webhook-id"] === first.headers["webhook-id"]).length === 2 ? true : undefined));
  });
});

describe("the holder page", () => {
  it("shows the pass and says which wallets are not set up yet, the visitor's platform first", async () => {
    await page.goto(`${worker.url}/dashboard/passes/${passId}`);
    const holderUrl = await page.getByLabel("Holder page (email or text this link)").inputValue();
    const android = await ctx.newPage();
    await android.setViewportSize({ width: 390, height: 844 });
    await android.setExtraHTTPHeaders({ "user-agent": "Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 Chrome/130.0 Mobile Safari/537.36" });
    await android.goto(holderUrl);
    await poll(() => android.getByRole("heading", { level: 1 }).innerText()).toBe("Coffee card");
    await poll(() => android.locator("dl.pass-card").innerText()).toContain("Ada");
    const missing = android.locator(".wallet-missing");
    await poll(() => missing.first().innerText()).toContain("Google Wallet");
    await poll(() => missing.nth(1).innerText()).toContain("Apple Wallet");
    await check(android, "11-holder-page-phone");
    await android.close();
  });
});

describe("security of the forms and the session", () => {
  it("refuses a form posted from another origin and changes nothing", async () => {
    const attacker = await startPage(`<!doctype html><html lang="en"><title>x</title><body>
      <form id="f" method="post" action="${worker.url}/dashboard/integrations/${integrationId}/delete">
        <input name="confirm" value="yes"><input name="_csrf" value="guessed"></form>
      <script>document.getElementById("f").submit()</script></body></html>`);
    try {
      const evil = await ctx.newPage();
      const response = evil.waitForResponse((r) => r.url().includes("/delete"));
      await evil.goto(attacker.url);
      expect((await response).status()).toBe(403);
      await poll(() => evil.getByRole("heading", { level: 1 }).innerText()).toBe("Request refused");
      await evil.close();
    } finally {
      await attacker.close();
    }
    expect((await api(`/v1/integration/${integrationId}`)).status).toBe(200);
  });

  it("an expired session sends the browser back to sign-in with a message", async () => {
    const cookie = (await ctx.cookies(worker.url)).find((c) => c.name === "passhook_session")!;
    const session = openSealed(cookie.value);
    expect(session).toMatchObject({ projectId: project.id, key: project.key });
    const expired = seal({ ...session, exp: Date.now() - 1000 });
    await ctx.addCookies([{ ...cookie, value: expired }]);
    await page.goto(`${worker.url}/dashboard/integrations`);
    await poll(() => page.url()).toContain("/dashboard/sign-in?reason=expired");
    await poll(() => page.getByRole("status").innerText()).toContain("Your session has expired");
  });

  it("signs out: the cookie is cleared and the dashboard asks to sign in again", async () => {
    await signIn(page);
    await poll(() => page.getByRole("heading", { level: 1 }).innerText()).toBe("Integrations");
    await page.getByRole("button", { name: "Sign out" }).click();
    await poll(() => page.getByRole("status").innerText()).toContain("You are signed out");
    expect((await ctx.cookies(worker.url)).find((c) => c.name === "passhook_session")).toBeUndefined();
    await page.goto(`${worker.url}/dashboard/callbacks`);
    await poll(() => page.url()).toContain("/dashboard/sign-in");
  });
});

// --- the session cookie, opened and sealed independently of the Worker's code (node:crypto) ---------
// AES-256-GCM under HKDF-SHA256(MASTER_KEY, salt = 32 zero bytes, info "passhook/v1/dashboard-session"),
// additional data "dashboard-session", `<iv base64url>.<ciphertext+tag base64url>`.

const sessionKey = () => Buffer.from(hkdfSync("sha256", Buffer.from(TEST_SECRETS.MASTER_KEY, "base64"), Buffer.alloc(32), "passhook/v1/dashboard-session", 32));

function openSealed(value: string): Record<string, unknown> {
  const [iv, ct] = value.split(".").map((p) => Buffer.from(p, "base64url"));
  const d = createDecipheriv("aes-256-gcm", sessionKey(), iv);
  d.setAAD(Buffer.from("dashboard-session"));
  d.setAuthTag(ct.subarray(ct.length - 16));
  return JSON.parse(Buffer.concat([d.update(ct.subarray(0, ct.length - 16)), d.final()]).toString("utf8"));
}

function seal(session: Record<string, unknown>): string {
  const iv = randomBytes(12);
  const c = createCipheriv("aes-256-gcm", sessionKey(), iv);
  c.setAAD(Buffer.from("dashboard-session"));
  const ct = Buffer.concat([c.update(JSON.stringify(session), "utf8"), c.final(), c.getAuthTag()]);
  return `${iv.toString("base64url")}.${ct.toString("base64url")}`;
}
