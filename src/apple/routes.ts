/**
 * @module apple/routes
 * Apple Wallet over HTTP. `appleRoutes` (mounted at the root): the PassKit web service under
 * `/apple/v1` (apple-wallet.md §1.1, the pass's webServiceURL is `{PUBLIC_URL}/apple`) and the public
 * download `/p/:token/pass.pkpass`, and the operator's APNs canary `/v1/operator/apns-canary` (ADMIN_TOKEN
 * bearer, checked here: the admin API's project auth does not cover it). `appleApiRoutes` (mounted in
 * the admin API, behind project auth):
 * the project's Apple credentials, a pass's .pkpass, template images and fan-out progress.
 * Handlers parse, call one verb, answer.
 */
import { splitShard, withShard } from "../db/shards";
import { Hono, type Context } from "hono";
import type { AppEnv } from "../env";
import { parseJsonText, readBody, readJsonBody } from "../lib/body";
import { notFound, unauthorized } from "../lib/errors";
import { parseIntId } from "../lib/ids";
import { parseWith } from "../lib/validation";
import { PKPASS_TYPE } from "./bundle";
import { appleCredentialsBody } from "./certificates";
import { saveAppleCredentials } from "./credentials";
import { DEVICE_LOG_LIMIT, logDeviceLines } from "./device-log";
import { latestPass, projectPkpass, publicPkpass, type Download } from "./downloads";
import { templatePushes } from "./fanout";
import { getTemplateImage, IMAGE_UPLOAD_LIMIT, listImages, putTemplateImage, removeTemplateImage } from "./images";
import { refuseBlockedClient, spendAuthAttempt, verifyOperator } from "../projects";
import { operatorApnsCanary } from "./operator-canary";
import { personalizePass } from "./personalization";
import { registerDevice, serialsSince, unregisterDevice } from "./web-service";

/** Small JSON bodies a device sends (register, personalize); anything else about them is a 400. */
const DEVICE_BODY_LIMIT = 16 * 1024;

async function deviceJson(c: Context): Promise<unknown> {
  const { text } = await readBody(c.req.raw, DEVICE_BODY_LIMIT);
  return text.trim() === "" ? {} : parseJsonText(text);
}

function pkpassResponse(d: Download, attachment: boolean): Response {
  const headers: Record<string, string> = {
    "cache-control": "no-store",
    "last-modified": new Date(d.lastModifiedSeconds * 1000).toUTCString(),
  };
  if (!d.bytes) return new Response(null, { status: 304, headers });
  headers["content-type"] = PKPASS_TYPE;
  if (attachment) headers["content-disposition"] = 'attachment; filename="pass.pkpass"';
  return new Response(d.bytes, { status: 200, headers });
}

const at = (c: Context) => ({ passTypeId: c.req.param("passTypeIdentifier") ?? "", serialNumber: c.req.param("serialNumber") ?? "" });

/**
 * The env of the D1 shard a serial names (`<shard>.<uuid>` outside shard 0). A prefix naming no shard
 * goes to shard 0, where no serial has a prefix: the ApplePass token is still checked first (401),
 * and a right token would find no pass (404), so an unknown shard answers like an unknown serial.
 */
function serialEnv(c: Context<AppEnv>): Env {
  return withShard(c.env, splitShard(c.env, ".", c.req.param("serialNumber") ?? "")?.shard ?? 0);
}
const REGISTRATION = "/apple/v1/devices/:deviceLibraryIdentifier/registrations/:passTypeIdentifier/:serialNumber";

export const appleRoutes = new Hono<AppEnv>()
  // Endpoint 1 and 2 (§1.1): register / unregister a device for a pass.
  .post(REGISTRATION, async (c) => {
    const auth = c.req.header("authorization");
    const status = await registerDevice(serialEnv(c), auth, c.req.param("deviceLibraryIdentifier"), at(c), await deviceJson(c));
    return c.body(null, status);
  })
  .delete(REGISTRATION, async (c) => {
    await unregisterDevice(serialEnv(c), c.req.header("authorization"), c.req.param("deviceLibraryIdentifier"), at(c));
    return c.body(null, 200);
  })
  // Endpoint 3: no ApplePass token; the device library id is the secret.
  .get("/apple/v1/devices/:deviceLibraryIdentifier/registrations/:passTypeIdentifier", async (c) => {
    const r = await serialsSince(c.env, c.req.param("deviceLibraryIdentifier"), c.req.param("passTypeIdentifier"), c.req.query("passesUpdatedSince"));
    return r ? c.json(r) : c.body(null, 204);
  })
  // Endpoint 4 (HEAD is answered like GET without a body).
  .get("/apple/v1/passes/:passTypeIdentifier/:serialNumber", async (c) =>
    pkpassResponse(await latestPass(serialEnv(c), c.req.header("authorization"), at(c), c.req.header("if-modified-since")), false),
  )
  // Endpoint 6: rewards enrollment; the answer is the signed personalization token.
  .post("/apple/v1/passes/:passTypeIdentifier/:serialNumber/personalize", async (c) => {
    const signed = await personalizePass(serialEnv(c), at(c), await deviceJson(c));
    return new Response(signed, { status: 200, headers: { "content-type": "application/octet-stream" } });
  })
  // Endpoint 5: always 200 (§1.1); what is logged is capped, rate limited and sanitized.
  .post("/apple/v1/log", async (c) => {
    const { text } = await readBody(c.req.raw, DEVICE_LOG_LIMIT);
    let body: unknown = null;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: nothing to log
    }
    await logDeviceLines(c.env, c.req.header("cf-connecting-ip") ?? "local", body);
    return c.body(null, 200);
  })
  // The public, unguessable download link (the holder page's Add to Apple Wallet button).
  .get("/p/:token/pass.pkpass", async (c) => pkpassResponse(await publicPkpass(c.env, c.req.param("token")), true))
  // `npm run apns:canary -- --via worker`: does this Worker's own fetch reach APNs?
  .post("/v1/operator/apns-canary", async (c) => {
    const ip = c.req.header("cf-connecting-ip");
    refuseBlockedClient(ip);
    if (!(await verifyOperator(c.env, c.req.header("authorization")))) {
      console.log(JSON.stringify({ msg: "operator auth failed", path: c.req.path }));
      if (c.req.header("authorization")) await spendAuthAttempt(c.env, ip);
      throw unauthorized("passhook-operator", "Bearer");
    }
    return c.json(await operatorApnsCanary(c.env, await deviceJson(c)));
  });

function intId(c: Context, name: string, what: string): number {
  const id = parseIntId(c.req.param(name) ?? "");
  if (id === null) throw notFound(what);
  return id;
}
const scope = (c: Context<AppEnv>) => ({ env: c.env, projectId: c.get("projectId") });

export const appleApiRoutes = new Hono<AppEnv>()
  .put("/v1/project/:projectId/credentials/apple", async (c) => {
    const body = parseWith(appleCredentialsBody, await readJsonBody(c.req.raw));
    return c.json(await saveAppleCredentials(c.env, c.get("projectId"), body));
  })
  .get("/v1/pass/:passId/pkpass", async (c) => pkpassResponse(await projectPkpass(c.env, c.get("projectId"), intId(c, "passId", "Pass")), true))
  .get("/v1/template/:templateId/images", async (c) => c.json(await listImages(scope(c), intId(c, "templateId", "Template"))))
  .put("/v1/template/:templateId/images/:name", async (c) => {
    const upload = { contentType: c.req.header("content-type"), read: async () => (await readBody(c.req.raw, IMAGE_UPLOAD_LIMIT)).bytes };
    return c.json(await putTemplateImage(scope(c), intId(c, "templateId", "Template"), c.req.param("name"), upload));
  })
  .get("/v1/template/:templateId/images/:name", async (c) => {
    const bytes = await getTemplateImage(scope(c), intId(c, "templateId", "Template"), c.req.param("name"));
    return new Response(bytes, { headers: { "content-type": "image/png", "cache-control": "no-store" } });
  })
  .delete("/v1/template/:templateId/images/:name", async (c) => {
    await removeTemplateImage(scope(c), intId(c, "templateId", "Template"), c.req.param("name"));
    return c.body(null, 204);
  })
  .get("/v1/template/:templateId/pushes", async (c) => c.json(await templatePushes(scope(c), intId(c, "templateId", "Template"))));
