/**
 * @module api
 * The admin REST API: operator route first, then project auth for every project-scoped prefix,
 * idempotency on writes, and one router per resource.
 */
import { Hono } from "hono";
import type { AppEnv } from "../env";
import { projectAuth, sameProject } from "./auth";
import { callbackRoutes } from "./callback-settings";
import { credentialRoutes } from "./credentials";
import { idempotency } from "./idempotency";
import { integrationRoutes } from "./integrations";
import { passRoutes } from "./passes";
import { operatorRoutes, projectRoutes } from "./projects";
import { templateRoutes } from "./templates";

export const PROJECT_PREFIXES = ["/v1/project/*", "/v1/template/*", "/v1/pass/*", "/v1/integration/*"] as const;

export function buildApi(extra: Hono<AppEnv>[] = []): Hono<AppEnv> {
  const api = new Hono<AppEnv>();
  api.route("/", operatorRoutes);
  for (const prefix of PROJECT_PREFIXES) api.use(prefix, projectAuth, idempotency);
  api.use("/v1/project/:projectId", sameProject);
  api.use("/v1/project/:projectId/*", sameProject);
  for (const r of [projectRoutes, templateRoutes, passRoutes, integrationRoutes, callbackRoutes, credentialRoutes, ...extra]) api.route("/", r);
  return api;
}
export { openApiDocument, documentedRoutes } from "./openapi";
