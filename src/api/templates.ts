/** Templates. */
import { Hono } from "hono";
import type { AppEnv } from "../env";
import { readJsonBody } from "../lib/body";
import { parseWith } from "../lib/validation";
import { createTemplate, deleteTemplate, getTemplate, listTemplates, replaceTemplate, templateBody } from "../passes";
import { intParam } from "./params";

const scope = (c: { env: Env; get: (k: "projectId") => string }) => ({ env: c.env, projectId: c.get("projectId") });

export const templateRoutes = new Hono<AppEnv>()
  .post("/v1/project/:projectId/templates", async (c) => {
    const body = parseWith(templateBody, await readJsonBody(c.req.raw));
    return c.json(await createTemplate(scope(c), body), 201);
  })
  .get("/v1/project/:projectId/templates", async (c) => c.json({ templates: await listTemplates(scope(c)) }))
  .get("/v1/template/:templateId", async (c) => c.json(await getTemplate(scope(c), intParam(c, "templateId", "Template"))))
  .put("/v1/template/:templateId", async (c) => {
    const id = intParam(c, "templateId", "Template");
    const body = parseWith(templateBody, await readJsonBody(c.req.raw));
    return c.json(await replaceTemplate(scope(c), id, body));
  })
  .delete("/v1/template/:templateId", async (c) => {
    await deleteTemplate(scope(c), intParam(c, "templateId", "Template"));
    return c.body(null, 204);
  });
