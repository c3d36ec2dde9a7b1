/**
 * @module dashboard/callbacks/routes
 * Callback pages through the callbacks domain's verbs (the REST API's own): register/replace,
 * delete, rotate the secret, test send, the delivery log and resend.
 */
import { Hono } from "hono";
import {
  deleteCallback,
  deliveryListQuery,
  getCallback,
  getDelivery,
  listProjectDeliveries,
  registerBody,
  registerCallback,
  resendDelivery,
  rotateCallbackSecret,
  testSend,
  testSendBody,
} from "../../callbacks";
import { AppError, validationError, type FieldIssue } from "../../lib/errors";
import { parseWith } from "../../lib/validation";
import type { DashContext, DashEnv } from "../context";
import { attempt, page, type shownError } from "../render";
import { DeliveryDetail } from "./delivery";
import { CallbacksPage } from "./page";

const STATUSES = ["waiting", "pending", "succeeded", "failed"] as const;

const DONE: Record<string, string> = {
  registered: "Callback server registered.",
  deleted: "The callback registration was removed.",
  tested: "Test event queued: it appears in the delivery log below.",
  resent: "Queued again with a fresh retry schedule and the same webhook-id.",
};

/** `Name: value` lines as a header object; a line without a colon is an issue. */
export function parseHeaderLines(text: string): { headers: Record<string, string>; issues: FieldIssue[] } {
  const entries: [string, string][] = [];
  const issues: FieldIssue[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (!line.trim()) return;
    const colon = line.indexOf(":");
    if (colon < 1) issues.push({ path: `headers.line${i + 1}`, message: 'must be "Name: value"' });
    else entries.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  });
  return { headers: Object.fromEntries(entries), issues };
}

async function registrationOrNull(c: DashContext) {
  try {
    return await getCallback(c.env, c.get("projectId"));
  } catch (e) {
    if (e instanceof AppError && e.code === "not_found") return null;
    throw e;
  }
}

async function callbacksPage(c: DashContext, extra: { secret?: string; done?: string; error?: ReturnType<typeof shownError>; form?: { baseUrl: string; headers: string } } = {}, status = 200) {
  const q = parseWith(deliveryListQuery, { status: c.req.query("status") || undefined, cursor: c.req.query("cursor") || undefined, limit: 25 });
  const [registration, log] = await Promise.all([registrationOrNull(c), listProjectDeliveries(c.env, c.get("projectId"), q)]);
  return page(
    c,
    "Callbacks",
    "callbacks",
    <CallbacksPage
      csrf={c.get("session").csrf}
      registration={registration}
      deliveries={log.deliveries}
      nextCursor={log.nextCursor}
      status={q.status ?? ""}
      statuses={STATUSES}
      done={extra.done ?? DONE[c.req.query("done") ?? ""]}
      secret={extra.secret}
      error={extra.error}
      form={extra.form}
    />,
    status,
  );
}

export function callbackPages() {
  return new Hono<DashEnv>()
    .get("/callbacks", (c) => callbacksPage(c))
    .post("/callbacks", async (c) => {
      const form = c.get("form");
      const typed = { baseUrl: (form.get("baseUrl") ?? "").trim(), headers: form.get("headers") ?? "" };
      return attempt(
        async () => {
          const { headers, issues } = parseHeaderLines(typed.headers);
          if (issues.length) throw validationError(issues, "The headers are not in the expected form.");
          const saved = await registerCallback(c.env, c.get("projectId"), parseWith(registerBody, { baseUrl: typed.baseUrl, headers }));
          if ("signingSecret" in saved && saved.signingSecret) return callbacksPage(c, { secret: saved.signingSecret, done: DONE.registered });
          return c.redirect("/dashboard/callbacks?done=registered", 303);
        },
        (error, status) => callbacksPage(c, { error, form: typed }, status),
      );
    })
    .post("/callbacks/delete", async (c) => {
      if (c.get("form").get("confirm") !== "yes") throw new AppError("bad_request", "Tick the confirmation box to remove the registration.");
      await deleteCallback(c.env, c.get("projectId"));
      return c.redirect("/dashboard/callbacks?done=deleted", 303);
    })
    .post("/callbacks/rotate-secret", async (c) => {
      const { signingSecret } = await rotateCallbackSecret(c.env, c.get("projectId"));
      return callbacksPage(c, { secret: signingSecret, done: "New signing secret issued; the old one also signs for 24 hours." });
    })
    .post("/callbacks/test", async (c) => {
      const form = c.get("form");
      const passId = Number(form.get("passId"));
      return attempt(
        async () => {
          await testSend(c.env, c.get("projectId"), parseWith(testSendBody, { event: form.get("event"), passId: Number.isFinite(passId) ? passId : form.get("passId") }));
          return c.redirect("/dashboard/callbacks?done=tested", 303);
        },
        (error, status) => callbacksPage(c, { error }, status),
      );
    })
    .get("/callbacks/deliveries/:id", async (c) => {
      const d = await getDelivery(c.env, c.get("projectId"), c.req.param("id"));
      return page(c, "Delivery", "callbacks", <DeliveryDetail csrf={c.get("session").csrf} d={d} done={DONE[c.req.query("done") ?? ""]} />);
    })
    .post("/callbacks/deliveries/:id/resend", async (c) => {
      const id = c.req.param("id");
      await resendDelivery(c.env, c.get("projectId"), id);
      return c.redirect(`/dashboard/callbacks/deliveries/${encodeURIComponent(id)}?done=resent`, 303);
    });
}
