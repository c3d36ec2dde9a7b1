/** Callback registration (Airship-compatible), test sends, and the delivery log. */
import { Hono, type Context } from "hono";
import {
  deleteCallback,
  deliveryListQuery,
  getCallback,
  getDelivery,
  listProjectDeliveries,
  recoverBody,
  recoverDeliveries,
  registerBody,
  registerCallback,
  resendDelivery,
  rotateCallbackSecret,
  testSend,
  testSendBody,
} from "../callbacks";
import type { AppEnv } from "../env";
import { readJsonBody } from "../lib/body";
import { parseWith } from "../lib/validation";

const pid = (c: Context<AppEnv>) => c.get("projectId");

export const callbackRoutes = new Hono<AppEnv>()
  .post("/v1/project/:projectId/settings/callback", async (c) => {
    const body = parseWith(registerBody, await readJsonBody(c.req.raw));
    return c.json(await registerCallback(c.env, pid(c), body));
  })
  .get("/v1/project/:projectId/settings/callback", async (c) => c.json(await getCallback(c.env, pid(c))))
  .delete("/v1/project/:projectId/settings/callback", async (c) => {
    await deleteCallback(c.env, pid(c));
    return c.body(null, 204);
  })
  .post("/v1/project/:projectId/settings/callback/rotate-secret", async (c) => c.json(await rotateCallbackSecret(c.env, pid(c))))
  .post("/v1/project/:projectId/settings/callback/test", async (c) => {
    const body = parseWith(testSendBody, await readJsonBody(c.req.raw));
    return c.json(await testSend(c.env, pid(c), body), 202);
  })
  .get("/v1/project/:projectId/callbacks/deliveries", async (c) => {
    const q = parseWith(deliveryListQuery, {
      status: c.req.query("status") || undefined,
      cursor: c.req.query("cursor") || undefined,
      limit: c.req.query("limit") || undefined,
    });
    return c.json(await listProjectDeliveries(c.env, pid(c), q));
  })
  .get("/v1/project/:projectId/callbacks/deliveries/:deliveryId", async (c) => c.json(await getDelivery(c.env, pid(c), c.req.param("deliveryId"))))
  .post("/v1/project/:projectId/callbacks/deliveries/:deliveryId/resend", async (c) =>
    c.json(await resendDelivery(c.env, pid(c), c.req.param("deliveryId")), 202),
  )
  .post("/v1/project/:projectId/callbacks/recover", async (c) => {
    const body = parseWith(recoverBody, await readJsonBody(c.req.raw));
    return c.json(await recoverDeliveries(c.env, pid(c), Date.parse(body.since)), 202);
  });
