/** Integrations (listener endpoints) and their inbound event log. */
import { Hono, type Context } from "hono";
import type { AppEnv } from "../env";
import { readJsonBody } from "../lib/body";
import { parseWith } from "../lib/validation";
import {
  createIntegration,
  createIntegrationBody,
  deleteIntegration,
  getEvent,
  getIntegration,
  listEvents,
  listIntegrations,
  patchIntegration,
  patchIntegrationBody,
  replayEvent,
  rotateIntegration,
} from "../listener";
import { pageParams } from "./params";

const scope = (c: Context<AppEnv>) => ({
  env: c.env,
  projectId: c.get("projectId"),
  publicUrl: (c.env.PUBLIC_URL || new URL(c.req.url).origin).replace(/\/+$/, ""),
});

export const integrationRoutes = new Hono<AppEnv>()
  .post("/v1/project/:projectId/integrations", async (c) => {
    const body = parseWith(createIntegrationBody, await readJsonBody(c.req.raw));
    return c.json(await createIntegration(scope(c), body), 201);
  })
  .get("/v1/project/:projectId/integrations", async (c) => c.json({ integrations: await listIntegrations(scope(c)) }))
  .get("/v1/integration/:integrationId", async (c) => c.json(await getIntegration(scope(c), c.req.param("integrationId"))))
  .patch("/v1/integration/:integrationId", async (c) => {
    const body = parseWith(patchIntegrationBody, await readJsonBody(c.req.raw));
    return c.json(await patchIntegration(scope(c), c.req.param("integrationId"), body));
  })
  .delete("/v1/integration/:integrationId", async (c) => {
    await deleteIntegration(scope(c), c.req.param("integrationId"));
    return c.body(null, 204);
  })
  .post("/v1/integration/:integrationId/rotate", async (c) => c.json(await rotateIntegration(scope(c), c.req.param("integrationId"))))
  .get("/v1/integration/:integrationId/events", async (c) => {
    const { cursor, limit } = pageParams(c);
    return c.json(await listEvents(scope(c), c.req.param("integrationId"), cursor, limit));
  })
  .get("/v1/integration/:integrationId/events/:eventId", async (c) => c.json(await getEvent(scope(c), c.req.param("integrationId"), c.req.param("eventId"))))
  .post("/v1/integration/:integrationId/events/:eventId/replay", async (c) =>
    c.json(await replayEvent(scope(c), c.req.param("integrationId"), c.req.param("eventId"))),
  );
