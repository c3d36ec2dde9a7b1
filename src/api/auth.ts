/**
 * @module api/auth
 * Operator bearer auth (creating projects) and project Basic auth (everything else). Failures are a
 * 401 with WWW-Authenticate; the reason goes to the log, never to the wire. A project's key sees only
 * its own project: another project's id answers 404, as if it did not exist. Wrong credentials (not
 * missing ones) spend the client's guessing budget, shared with the dashboard's sign-in
 * (projects/auth-limit.ts): past it, the client gets 429 for a minute whatever it sends.
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { notFound, unauthorized } from "../lib/errors";
import { refuseBlockedClient, spendAuthAttempt, verifyBasicAuth, verifyOperator, withShard } from "../projects";

/** Counts a failed attempt that carried credentials (missing ones are no guess). */
async function spendFailure(c: Context<AppEnv>): Promise<void> {
  if (c.req.header("authorization")) await spendAuthAttempt(c.env, c.req.header("cf-connecting-ip"));
}

export const operatorAuth = createMiddleware<AppEnv>(async (c, next) => {
  refuseBlockedClient(c.req.header("cf-connecting-ip"));
  if (!(await verifyOperator(c.env, c.req.header("authorization")))) {
    console.log(JSON.stringify({ msg: "operator auth failed", path: c.req.path }));
    await spendFailure(c);
    throw unauthorized("passhook-operator", "Bearer");
  }
  // Operator writes (and their idempotency records) live in the directory, shard 0.
  c.env = withShard(c.env, 0);
  await next();
});

export const projectAuth = createMiddleware<AppEnv>(async (c, next) => {
  refuseBlockedClient(c.req.header("cf-connecting-ip"));
  const r = await verifyBasicAuth(c.env, c.req.header("authorization"));
  if (!r.ok) {
    console.log(JSON.stringify({ msg: "project auth failed", reason: r.error.reason, path: c.req.path }));
    await spendFailure(c);
    throw unauthorized();
  }
  c.set("projectId", r.value.projectId);
  // From here on `c.env.DB` is the project's shard (db/shards.ts).
  c.env = withShard(c.env, r.value.shard);
  await next();
});

/** For `/v1/project/:projectId/...`: the path's project must be the caller's. */
export const sameProject = createMiddleware<AppEnv>(async (c, next) => {
  if (c.req.param("projectId") !== c.get("projectId")) throw notFound("Project");
  await next();
});
