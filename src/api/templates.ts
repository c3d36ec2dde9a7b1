/** Templates. */
import { Hono } from "hono";
import type { AppEnv } from "../env";
import { checkGoogleTemplate } from "../google";
import { readJsonBody } from "../lib/body";
import { validationError } from "../lib/errors";
import { parseWith } from "../lib/validation";
import { createTemplate, deleteTemplate, getTemplate, listTemplates, replaceTemplate, templateBody } from "../passes";
import { intParam } from "./params";

const scope = (c: { env: Env; get: (k: "projectId") => string }) => ({ env: c.env, projectId: c.get("projectId") });

/** The body, with each wallet's design checked against it (400 with `google.…` paths). */
async function templateInput(req: Request) {
  const body = parseWith(templateBody, await readJsonBody(req));
  const issues = checkGoogleTemplate(body);
  if (issues.length) throw validationError(issues);
  return body;
}

export const templateRoutes = new Hono<AppEnv>()
  .post("/v1/project/:projectId/templates", async (c) => {
    return c.json(await createTemplate(scope(c), await templateInput(c.req.raw)), 201);
  })
  .get("/v1/project/:projectId/templates", async (c) => c.json({ templates: await listTemplates(scope(c)) }))
  .get("/v1/template/:templateId", async (c) => c.json(await getTemplate(scope(c), intParam(c, "templateId", "Template"))))
  .put("/v1/template/:templateId", async (c) => {
    const id = intParam(c, "templateId", "Template");
    return c.json(await replaceTemplate(scope(c), id, await templateInput(c.req.raw)));
  })
  .delete("/v1/template/:templateId", async (c) => {
    await deleteTemplate(scope(c), intParam(c, "templateId", "Template"));
    return c.body(null, 204);
  });
