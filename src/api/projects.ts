/** Projects and API keys. */
import { Hono } from "hono";
import type { AppEnv } from "../env";
import { readJsonBody } from "../lib/body";
import { parseWith } from "../lib/validation";
import { createApiKey, createProject, createProjectBody, deleteApiKey, getProject } from "../projects";
import { operatorAuth } from "./auth";
import { idempotency } from "./idempotency";

/** Operator-only: mounted before project auth. */
export const operatorRoutes = new Hono<AppEnv>().post("/v1/projects", operatorAuth, idempotency, async (c) => {
  const body = parseWith(createProjectBody, await readJsonBody(c.req.raw));
  return c.json(await createProject(c.env, body), 201);
});

export const projectRoutes = new Hono<AppEnv>()
  .get("/v1/project/:projectId", async (c) => c.json(await getProject(c.env, c.get("projectId"))))
  .post("/v1/project/:projectId/keys", async (c) => c.json(await createApiKey(c.env, c.get("projectId")), 201))
  .delete("/v1/project/:projectId/keys/:key", async (c) => {
    await deleteApiKey(c.env, c.get("projectId"), c.req.param("key"));
    return c.body(null, 204);
  });
