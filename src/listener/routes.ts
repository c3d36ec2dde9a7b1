/** The listener endpoint: `POST /hooks/:token`. Answers are the outcome as it was logged. */
import { Hono } from "hono";
import type { AppEnv } from "../env";
import { receive } from "./receive";

export const listenerRoutes = new Hono<AppEnv>().post("/hooks/:token", async (c) => {
  const outcome = await receive(c.env, c.req.param("token"), c.req.raw);
  for (const [k, v] of Object.entries(outcome.headers ?? {})) c.header(k, v);
  return c.json(outcome.body as object, outcome.status as 200);
});
