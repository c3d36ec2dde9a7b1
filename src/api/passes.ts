/** Passes: create, read, merge fields, status, archive, list. Every write goes through the pass's Durable Object. */
import { Hono, type Context } from "hono";
import { appleDownloadUrl } from "../apple";
import type { AppEnv } from "../env";
import { googleSaveLink } from "../google";
import { readJsonBody } from "../lib/body";
import { parseWith } from "../lib/validation";
import {
  archivePass,
  createPass,
  createPassBody,
  getPass,
  listPasses,
  passHistory,
  passPageUrl,
  setPassStatus,
  statusBody,
  updatePass,
  updatePassBody,
  type PassRef,
} from "../passes";
import { intParam, pageParams } from "./params";

const scope = (c: Context<AppEnv>) => ({ env: c.env, projectId: c.get("projectId"), source: "api" });
const byId = (c: Context<AppEnv>): PassRef => ({ passId: intParam(c, "passId", "Pass") });
const byExternal = (c: Context<AppEnv>): PassRef => ({
  templateId: intParam(c, "templateId", "Template"),
  externalId: c.req.param("externalId") ?? "",
});

async function put(c: Context<AppEnv>, ref: PassRef) {
  const body = parseWith(updatePassBody, await readJsonBody(c.req.raw));
  return c.json((await updatePass(scope(c), ref, body.fields)).pass);
}

export const passRoutes = new Hono<AppEnv>()
  .post("/v1/template/:templateId/pass", async (c) => {
    const templateId = intParam(c, "templateId", "Template");
    const body = parseWith(createPassBody, await readJsonBody(c.req.raw));
    return c.json((await createPass(scope(c), templateId, body)).pass, 201);
  })
  .get("/v1/template/:templateId/passes", async (c) => {
    const { cursor, limit } = pageParams(c);
    return c.json(await listPasses(scope(c), intParam(c, "templateId", "Template"), cursor, limit));
  })
  .get("/v1/pass/template/:templateId/id/:externalId", async (c) => c.json(await getPass(scope(c), byExternal(c))))
  .put("/v1/pass/template/:templateId/id/:externalId", (c) => put(c, byExternal(c)))
  .get("/v1/pass/:passId", async (c) => c.json(await getPass(scope(c), byId(c))))
  .put("/v1/pass/:passId", (c) => put(c, byId(c)))
  .post("/v1/pass/:passId/status", async (c) => {
    const ref = byId(c);
    const body = parseWith(statusBody, await readJsonBody(c.req.raw));
    return c.json((await setPassStatus(scope(c), ref, body.status)).pass);
  })
  .delete("/v1/pass/:passId", async (c) => c.json((await archivePass(scope(c), byId(c))).pass))
  .get("/v1/pass/:passId/links", async (c) => {
    const pass = await getPass(scope(c), byId(c));
    const origin = new URL(c.req.url).origin;
    const base = (c.env.PUBLIC_URL || origin).replace(/\/+$/, "");
    // Each wallet's link is null while the project has not set that wallet up.
    const [apple, google, page] = await Promise.all([appleDownloadUrl(c.env, pass, origin), googleSaveLink(c.env, pass), passPageUrl(c.env, base, pass)]);
    return c.json({ apple, google, page });
  })
  .get("/v1/pass/:passId/events", async (c) => {
    const ref = byId(c);
    const { cursor, limit } = pageParams(c);
    return c.json(await passHistory(scope(c), ref, cursor, limit));
  });
