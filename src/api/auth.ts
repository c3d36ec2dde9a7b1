/**
 * @module api/auth
 * Operator bearer auth (creating projects) and project Basic auth (everything else). Failures are a
 * 401 with WWW-Authenticate; the reason goes to the log, never to the wire. A project's key sees only
 * its own project: another project's id answers 404, as if it did not exist. Wrong credentials (not
 * missing ones) spend the client address's budget (`AUTH_RATE_LIMIT`, as the dashboard's sign-in
 * form does): past it, the address gets 429 whatever it sends for a minute (per isolate; Cloudflare's
 * counters are approximate), so guessing gains nothing on either door.
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { AppError, notFound, unauthorized } from "../lib/errors";
import { verifyBasicAuth, verifyOperator } from "../projects";

const RATE_PERIOD_SECONDS = 60;
/** Addresses over budget, refused before any check until the time given (this isolate's view). */
const blocked = new Map<string, number>();
const MAX_BLOCKED = 1000;

/** The client's address; Cloudflare always sets it. Without it (local tools, tests) nothing is limited. */
const clientOf = (c: Context<AppEnv>) => c.req.header("cf-connecting-ip");

function tooMany(): AppError {
  return new AppError("rate_limited", "Too many failed authentication attempts from your address; wait a minute.", null, { "Retry-After": String(RATE_PERIOD_SECONDS) });
}

/** An address that went over its budget is refused outright for a minute: a right guess gains nothing. */
function refuseBlocked(c: Context<AppEnv>): void {
  const ip = clientOf(c);
  const until = ip === undefined ? undefined : blocked.get(ip);
  if (until === undefined) return;
  if (until > Date.now()) throw tooMany();
  blocked.delete(ip!);
}

/** Counts a failed attempt that carried credentials; throws 429 once the address is over its budget. */
async function spendFailure(c: Context<AppEnv>): Promise<void> {
  const ip = clientOf(c);
  if (!c.req.header("authorization") || ip === undefined) return;
  const { success } = await c.env.AUTH_RATE_LIMIT.limit({ key: `api-auth:${ip}` });
  if (!success) {
    if (blocked.size >= MAX_BLOCKED) blocked.delete(blocked.keys().next().value!);
    blocked.set(ip, Date.now() + RATE_PERIOD_SECONDS * 1000);
    throw tooMany();
  }
}

export const operatorAuth = createMiddleware<AppEnv>(async (c, next) => {
  refuseBlocked(c);
  if (!(await verifyOperator(c.env, c.req.header("authorization")))) {
    console.log(JSON.stringify({ msg: "operator auth failed", path: c.req.path }));
    await spendFailure(c);
    throw unauthorized("passhook-operator", "Bearer");
  }
  await next();
});

export const projectAuth = createMiddleware<AppEnv>(async (c, next) => {
  refuseBlocked(c);
  const r = await verifyBasicAuth(c.env, c.req.header("authorization"));
  if (!r.ok) {
    console.log(JSON.stringify({ msg: "project auth failed", reason: r.error.reason, path: c.req.path }));
    await spendFailure(c);
    throw unauthorized();
  }
  c.set("projectId", r.value.projectId);
  await next();
});

/** For `/v1/project/:projectId/...`: the path's project must be the caller's. */
export const sameProject = createMiddleware<AppEnv>(async (c, next) => {
  if (c.req.param("projectId") !== c.get("projectId")) throw notFound("Project");
  await next();
});
