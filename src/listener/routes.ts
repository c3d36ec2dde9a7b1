/** The listener endpoint: `POST /hooks/:token`. Answers are the outcome as it was logged. */
import { Hono, type Context } from "hono";
import type { AppEnv } from "../env";
import { receive, type Defer } from "./receive";

/** Work after the answer (the event's details to R2) waits on the request's execution context when there is one. */
function deferTo(c: Context<AppEnv>): Defer | undefined {
  try {
    const ctx = c.executionCtx;
    return (work) => ctx.waitUntil(work);
  } catch {
    return undefined; // no execution context (app.request in a test): receive awaits the work itself
  }
}

export const listenerRoutes = new Hono<AppEnv>().post("/hooks/:token", async (c) => {
  const outcome = await receive(c.env, c.req.param("token"), c.req.raw, { defer: deferTo(c) });
  for (const [k, v] of Object.entries(outcome.headers ?? {})) c.header(k, v);
  return c.json(outcome.body as object, outcome.status as 200);
});
