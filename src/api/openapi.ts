/**
 * @module api/openapi
 * `GET /openapi.json`: the OpenAPI 3.1 document of the REST API. Request bodies are generated from the
 * same zod schemas that validate them (zod's JSON Schema output), so the document cannot drift from
 * what the API accepts; a test checks that every served route is documented.
 */
import { z } from "zod";
import { apnsCanaryBody, appleCredentialsBody } from "../apple";
import { recoverBody, registerBody, testSendBody } from "../callbacks";
import { createIntegrationBody, patchIntegrationBody } from "../listener";
import { createPassBody, statusBody, templateBody, updatePassBody } from "../passes";
import { createProjectBody } from "../projects";

type Auth = "operator" | "project" | "listener" | "applePass" | "none";
interface Op {
  method: "get" | "post" | "put" | "patch" | "delete";
  path: string;
  summary: string;
  auth: Auth;
  body?: z.ZodType;
  ok: [number, string];
  query?: string[];
  errors?: number[];
}

const ops: Op[] = [
  { method: "get", path: "/health", summary: "Liveness", auth: "none", ok: [200, "`{ok: true}`"] },
  { method: "get", path: "/openapi.json", summary: "This document", auth: "none", ok: [200, "OpenAPI 3.1"] },
  { method: "post", path: "/v1/projects", summary: "Create a project with its first API key", auth: "operator", body: createProjectBody, ok: [201, "Project and `apiKey {key, secret}` (shown once)"], errors: [400, 401, 409] },
  { method: "post", path: "/v1/operator/apns-canary", summary: "Does this Worker's own fetch reach APNs? One push to a dummy device token (`npm run apns:canary -- --via worker`)", auth: "operator", body: apnsCanaryBody, ok: [200, "`{verdict, status?, reason?, detail, host, topic, throwawayKey}`"], errors: [400, 401] },
  { method: "get", path: "/v1/project/{projectId}", summary: "Get the project", auth: "project", ok: [200, "Project"] },
  { method: "post", path: "/v1/project/{projectId}/keys", summary: "Create an API key", auth: "project", ok: [201, "`{key, secret}` (shown once)"] },
  { method: "delete", path: "/v1/project/{projectId}/keys/{key}", summary: "Delete an API key (not the last)", auth: "project", ok: [204, "Deleted"], errors: [404, 409] },
  { method: "post", path: "/v1/project/{projectId}/templates", summary: "Create a template", auth: "project", body: templateBody, ok: [201, "Template"], errors: [400] },
  { method: "get", path: "/v1/project/{projectId}/templates", summary: "List templates", auth: "project", ok: [200, "`{templates}`"] },
  { method: "get", path: "/v1/template/{templateId}", summary: "Get a template", auth: "project", ok: [200, "Template"] },
  { method: "put", path: "/v1/template/{templateId}", summary: "Replace a template", auth: "project", body: templateBody, ok: [200, "Template"], errors: [400, 413] },
  { method: "delete", path: "/v1/template/{templateId}", summary: "Delete an unused template", auth: "project", ok: [204, "Deleted"], errors: [409] },
  { method: "post", path: "/v1/template/{templateId}/pass", summary: "Create a pass", auth: "project", body: createPassBody, ok: [201, "Pass"], errors: [400, 409] },
  { method: "get", path: "/v1/template/{templateId}/passes", summary: "List a template's passes", auth: "project", query: ["cursor", "limit"], ok: [200, "`{passes, nextCursor}`"] },
  { method: "get", path: "/v1/pass/{passId}", summary: "Get a pass", auth: "project", ok: [200, "Pass"] },
  { method: "put", path: "/v1/pass/{passId}", summary: "Merge fields into a pass", auth: "project", body: updatePassBody, ok: [200, "Pass"], errors: [400, 410] },
  { method: "delete", path: "/v1/pass/{passId}", summary: "Archive a pass", auth: "project", ok: [200, "The archived pass"], errors: [410] },
  { method: "post", path: "/v1/pass/{passId}/status", summary: "Set a pass's status", auth: "project", body: statusBody, ok: [200, "Pass"], errors: [400, 409, 410] },
  { method: "get", path: "/v1/pass/{passId}/links", summary: "The pass's wallet links: Apple download URL, Save to Google Wallet URL, holder page", auth: "project", ok: [200, "`{apple, google, page}` (null for a wallet the project has not set up)"] },
  { method: "get", path: "/v1/pass/{passId}/events", summary: "The pass's history (writes and holder events), newest first", auth: "project", query: ["cursor", "limit"], ok: [200, "`{events, nextCursor}`"] },
  { method: "get", path: "/v1/pass/template/{templateId}/id/{externalId}", summary: "Get a pass by externalId", auth: "project", ok: [200, "Pass"] },
  { method: "put", path: "/v1/pass/template/{templateId}/id/{externalId}", summary: "Merge fields into a pass by externalId", auth: "project", body: updatePassBody, ok: [200, "Pass"], errors: [400, 410] },
  { method: "post", path: "/v1/project/{projectId}/integrations", summary: "Create an integration (listener endpoint)", auth: "project", body: createIntegrationBody, ok: [201, "Integration with `listenerUrl` (shown once) and `expectedPayload`"], errors: [400] },
  { method: "get", path: "/v1/project/{projectId}/integrations", summary: "List integrations", auth: "project", ok: [200, "`{integrations}`"] },
  { method: "get", path: "/v1/integration/{integrationId}", summary: "Get an integration", auth: "project", ok: [200, "Integration"] },
  { method: "patch", path: "/v1/integration/{integrationId}", summary: "Change name, mapping, signing secret or enabled", auth: "project", body: patchIntegrationBody, ok: [200, "Integration"], errors: [400] },
  { method: "delete", path: "/v1/integration/{integrationId}", summary: "Delete an integration", auth: "project", ok: [204, "Deleted"] },
  { method: "post", path: "/v1/integration/{integrationId}/rotate", summary: "Issue a new listener URL", auth: "project", ok: [200, "Integration with the new `listenerUrl`"] },
  { method: "get", path: "/v1/integration/{integrationId}/events", summary: "The inbound event log, newest first (each body's first ~64 KiB; `bodyComplete` false when cut)", auth: "project", query: ["cursor", "limit"], ok: [200, "`{events, nextCursor}`"] },
  { method: "get", path: "/v1/integration/{integrationId}/events/{eventId}", summary: "One logged request with its whole body", auth: "project", ok: [200, "The event"] },
  { method: "post", path: "/v1/integration/{integrationId}/events/{eventId}/replay", summary: "Run a logged body through the current mapping", auth: "project", ok: [200, "The new event"], errors: [409] },
  { method: "get", path: "/v1/project/{projectId}/credentials", summary: "Wallet credential summaries (never key material)", auth: "project", ok: [200, "`{apple, google}`: a summary or null each"] },
  { method: "put", path: "/v1/project/{projectId}/credentials/google", summary: "Store Google Wallet credentials (issuer id, service account, origins; encrypted, never returned)", auth: "project", ok: [200, "Summary: issuer id, service account e-mail, origins, key size and public-key fingerprint"], errors: [400] },
  { method: "post", path: "/google/callback", summary: "Google Wallet save/delete callback (ECv2SigningOnly-signed by Google)", auth: "none", ok: [200, "`{ok: true}`, also for a repeated nonce"], errors: [401, 413] },
  { method: "delete", path: "/v1/project/{projectId}/credentials/{wallet}", summary: "Delete a wallet's credentials (`apple` or `google`)", auth: "project", ok: [204, "Deleted"], errors: [404] },
  { method: "put", path: "/v1/project/{projectId}/credentials/apple", summary: "Set the Apple Wallet credentials (validated; stored encrypted)", auth: "project", body: appleCredentialsBody, ok: [200, "Summary: identifiers, certificate subject and expiry, APNs key id and host"], errors: [400, 409] },
  { method: "get", path: "/v1/pass/{passId}/pkpass", summary: "The pass as a signed .pkpass (application/vnd.apple.pkpass)", auth: "project", ok: [200, "The .pkpass"], errors: [409] },
  { method: "get", path: "/v1/template/{templateId}/images", summary: "The template's Apple images (names and sizes)", auth: "project", ok: [200, "`{images}`"] },
  { method: "put", path: "/v1/template/{templateId}/images/{name}", summary: "Upload an Apple image (raw PNG body, Content-Type image/png, at most 1 MiB; a template's images at most 2 MiB together)", auth: "project", ok: [200, "`{name, bytes, width, height, sha1, updatedAt}`"], errors: [400, 413, 415] },
  { method: "get", path: "/v1/template/{templateId}/images/{name}", summary: "An Apple image (image/png)", auth: "project", ok: [200, "The PNG"] },
  { method: "delete", path: "/v1/template/{templateId}/images/{name}", summary: "Delete an Apple image", auth: "project", ok: [204, "Deleted"] },
  { method: "get", path: "/v1/template/{templateId}/pushes", summary: "Progress of the template's last push fan-out to wallets", auth: "project", ok: [200, "`{apple: {state, done, total, startedAt, finishedAt, error}}`"] },
  { method: "post", path: "/apple/v1/devices/{deviceLibraryIdentifier}/registrations/{passTypeIdentifier}/{serialNumber}", summary: "PassKit web service: register a device for a pass (`{pushToken}`)", auth: "applePass", ok: [201, "Registered (200 when it was already)"], errors: [400, 401] },
  { method: "delete", path: "/apple/v1/devices/{deviceLibraryIdentifier}/registrations/{passTypeIdentifier}/{serialNumber}", summary: "PassKit web service: unregister a device", auth: "applePass", ok: [200, "Unregistered"], errors: [401] },
  { method: "get", path: "/apple/v1/devices/{deviceLibraryIdentifier}/registrations/{passTypeIdentifier}", summary: "PassKit web service: serials changed since a tag", auth: "none", query: ["passesUpdatedSince"], ok: [200, "`{serialNumbers, lastUpdated}` (204 when none)"] },
  { method: "get", path: "/apple/v1/passes/{passTypeIdentifier}/{serialNumber}", summary: "PassKit web service: the latest pass (304 with If-Modified-Since)", auth: "applePass", ok: [200, "The .pkpass with Last-Modified"], errors: [401] },
  { method: "post", path: "/apple/v1/passes/{passTypeIdentifier}/{serialNumber}/personalize", summary: "PassKit web service: rewards enrollment; answers the signed personalization token", auth: "none", ok: [200, "application/octet-stream"], errors: [400, 409, 429] },
  { method: "post", path: "/apple/v1/log", summary: "PassKit web service: device error reports (`{logs}`)", auth: "none", ok: [200, "Always"], errors: [413] },
  { method: "post", path: "/hooks/{token}", summary: "Listener: run the integration's action (JSON or form body)", auth: "listener", ok: [200, "`{passId, externalId, action, status, version, ignoredFields}` (201 when created)"], errors: [400, 401, 404, 409, 410, 413, 415, 429] },
  { method: "post", path: "/v1/project/{projectId}/settings/callback", summary: "Register the callback server", auth: "project", body: registerBody, ok: [200, "Callback spec (header values masked); `signingSecret` on first registration"], errors: [400] },
  { method: "get", path: "/v1/project/{projectId}/settings/callback", summary: "Get the callback registration", auth: "project", ok: [200, "Callback spec (header values masked)"] },
  { method: "delete", path: "/v1/project/{projectId}/settings/callback", summary: "Remove the callback registration", auth: "project", ok: [204, "Deleted"] },
  { method: "post", path: "/v1/project/{projectId}/settings/callback/rotate-secret", summary: "Rotate the signing secret (old one signs for 24 h)", auth: "project", ok: [200, "`{signingSecret, previousSecretExpiresAt}`"] },
  { method: "post", path: "/v1/project/{projectId}/settings/callback/test", summary: "Send a real, signed test delivery", auth: "project", body: testSendBody, ok: [202, "`{deliveryId, test}`"] },
  { method: "get", path: "/v1/project/{projectId}/callbacks/deliveries", summary: "The delivery log, newest first", auth: "project", query: ["status", "cursor", "limit"], ok: [200, "`{deliveries, nextCursor}`"] },
  { method: "get", path: "/v1/project/{projectId}/callbacks/deliveries/{deliveryId}", summary: "One delivery with its attempts", auth: "project", ok: [200, "Delivery with `attemptLog`"] },
  { method: "post", path: "/v1/project/{projectId}/callbacks/deliveries/{deliveryId}/resend", summary: "Send a settled delivery again", auth: "project", ok: [202, "Delivery"], errors: [409] },
  { method: "post", path: "/v1/project/{projectId}/callbacks/recover", summary: "Resend every failed delivery since a time", auth: "project", body: recoverBody, ok: [202, "`{recovered, more}`"] },
];

const SECURITY: Record<Auth, Record<string, string[]>[]> = {
  operator: [{ operator: [] }],
  project: [{ project: [] }],
  listener: [],
  applePass: [{ applePass: [] }],
  none: [],
};

const errorRef = { $ref: "#/components/schemas/Error" };

function jsonSchema(schema: z.ZodType) {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  return rest;
}

function operation(op: Op) {
  const params = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: "path", required: true, schema: { type: "string" } }));
  for (const q of op.query ?? []) params.push({ name: q, in: "query", required: false, schema: { type: "string" } });
  const responses: Record<string, unknown> = { [op.ok[0]]: { description: op.ok[1] } };
  const errors = new Set([...(op.errors ?? []), ...(op.auth === "project" || op.auth === "operator" ? [401] : []), ...(op.path.includes("{") ? [404] : [])]);
  for (const code of [...errors].sort()) responses[code] = { description: "Error", content: { "application/json": { schema: errorRef } } };
  return {
    summary: op.summary,
    security: SECURITY[op.auth],
    ...(params.length ? { parameters: params } : {}),
    ...(op.body ? { requestBody: { required: true, content: { "application/json": { schema: jsonSchema(op.body) } } } } : {}),
    responses,
  };
}

let cached: Record<string, unknown> | null = null;

export function openApiDocument(): Record<string, unknown> {
  if (cached) return cached;
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of ops) (paths[op.path] ??= {})[op.method] = operation(op);
  cached = {
    openapi: "3.1.0",
    info: { title: "passhook", version: "1", description: "Mobile-wallet passes driven by webhooks. Errors are `{error: {code, message, details}}`." },
    paths,
    components: {
      securitySchemes: {
        project: { type: "http", scheme: "basic", description: "Project API key and secret" },
        operator: { type: "http", scheme: "bearer", description: "ADMIN_TOKEN; only for creating projects" },
        applePass: { type: "apiKey", in: "header", name: "Authorization", description: "`ApplePass <authenticationToken>` of the pass (Apple devices)" },
      },
      schemas: {
        Error: {
          type: "object",
          required: ["error"],
          properties: {
            error: {
              type: "object",
              required: ["code", "message", "details"],
              properties: { code: { type: "string" }, message: { type: "string" }, details: {} },
            },
          },
        },
      },
    },
  };
  return cached;
}

/** Every documented route as Hono spells it (`GET /v1/pass/:passId`), with who may call it. */
export function documentedRoutes(): { route: string; method: string; path: string; auth: Auth }[] {
  return ops.map((o) => {
    const path = o.path.replace(/\{(\w+)\}/g, ":$1");
    return { route: `${o.method.toUpperCase()} ${path}`, method: o.method.toUpperCase(), path, auth: o.auth };
  });
}
