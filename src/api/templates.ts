/** Templates. */
import { Hono } from "hono";
import type { AppEnv } from "../env";
import { checkAppleImagesFit, checkAppleTemplate, saveAppleImages, takeAppleImages } from "../apple";
import { checkGoogleTemplate } from "../google";
import { readJsonBody } from "../lib/body";
import { validationError } from "../lib/errors";
import { parseWith } from "../lib/validation";
import { createTemplate, deleteTemplate, getTemplate, listTemplates, replaceTemplate, templateBody } from "../passes";
import { intParam } from "./params";

const scope = (c: { env: Env; get: (k: "projectId") => string }) => ({ env: c.env, projectId: c.get("projectId") });

/** The body with each wallet's design checked; Apple's images are lifted out of the row (apple/images.ts). */
async function templateInput(req: Request) {
  const body = parseWith(templateBody, await readJsonBody(req));
  const issues = [...checkAppleTemplate(body), ...checkGoogleTemplate(body)];
  if (issues.length) throw validationError(issues, issues.length === 1 ? `${issues[0].path} ${issues[0].message}.` : `${issues.length} design problems; see details.`);
  return takeAppleImages(body);
}

export const templateRoutes = new Hono<AppEnv>()
  .post("/v1/project/:projectId/templates", async (c) => {
    const { body, images } = await templateInput(c.req.raw);
    const template = await createTemplate(scope(c), body);
    await saveAppleImages(c.env, template, images);
    return c.json(template, 201);
  })
  .get("/v1/project/:projectId/templates", async (c) => c.json({ templates: await listTemplates(scope(c)) }))
  .get("/v1/template/:templateId", async (c) => c.json(await getTemplate(scope(c), intParam(c, "templateId", "Template"))))
  .put("/v1/template/:templateId", async (c) => {
    const id = intParam(c, "templateId", "Template");
    const { body, images } = await templateInput(c.req.raw);
    await checkAppleImagesFit(scope(c), id, images);
    const template = await replaceTemplate(scope(c), id, body);
    await saveAppleImages(c.env, template, images);
    return c.json(template);
  })
  .delete("/v1/template/:templateId", async (c) => {
    await deleteTemplate(scope(c), intParam(c, "templateId", "Template"));
    return c.body(null, 204);
  });
