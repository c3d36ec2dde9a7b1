/**
 * @module dashboard/render
 * Renders pages and errors. Errors from domain verbs are shown with the API's own message, code and
 * field issues, with the status the REST API would answer; anything unexpected is logged and shown as
 * a generic error, as `app.onError` does for the API.
 */
import type { Child } from "hono/jsx";
import type { Context } from "hono";
import { isAppError } from "../lib/errors";
import type { DashContext, DashEnv } from "./context";
import { CsrfRefused } from "./guard";
import { Document, ErrorNotice, Layout, type Section, type ShownError } from "./layout";

export function page(c: DashContext, title: string, section: Section, body: Child, status = 200) {
  const s = c.get("session");
  return c.html(
    <Layout title={title} section={section} csrf={s.csrf} projectId={s.projectId}>
      {body}
    </Layout>,
    status as 200,
  );
}

/** An AppError as the dashboard shows it (the API's message and field issues). */
export function shownError(e: unknown): ShownError | null {
  if (!isAppError(e)) return null;
  const issues = (e.details as { issues?: { path: string; message: string }[] } | null)?.issues;
  return { code: e.code, message: e.message, issues: Array.isArray(issues) ? issues : undefined };
}

/** Runs `fn`; an AppError becomes `onError(shown, status)` (a page re-rendered with the message). */
export async function attempt<T>(fn: () => Promise<T>, onError: (e: ShownError, status: number) => Response | Promise<Response>): Promise<T | Response> {
  try {
    return await fn();
  } catch (e) {
    const shown = shownError(e);
    if (!shown || !isAppError(e)) throw e;
    return onError(shown, e.status);
  }
}

function Standalone(props: { title: string; children: Child }) {
  return (
    <Document title={props.title}>
      <body>
        <main id="main" class="narrow">
          <h1>{props.title}</h1>
          {props.children}
        </main>
      </body>
    </Document>
  );
}

/** The dashboard's onError: HTML, never a stack or a secret. */
export function dashboardError(e: Error, c: Context<DashEnv>) {
  if (e instanceof CsrfRefused) {
    console.log(JSON.stringify({ msg: "dashboard CSRF refusal", reason: e.reason, path: c.req.path, origin: c.req.header("origin") ?? null, site: c.req.header("sec-fetch-site") ?? null }));
    return c.html(
      <Standalone title="Request refused">
        <ErrorNotice error={{ code: "forbidden", message: "This form was not sent from this dashboard's own page, so nothing was changed (CSRF protection)." }} />
        <p>
          <a href="/dashboard">Back to the dashboard</a>, reload the page and try again.
        </p>
      </Standalone>,
      403,
    );
  }
  const shown = shownError(e);
  if (shown && isAppError(e)) {
    for (const [k, v] of Object.entries(e.headers)) c.header(k, v);
    const back = c.req.method === "POST" ? c.req.path.replace(/\/[^/]+$/, "") : "/dashboard";
    const body = (
      <>
        <ErrorNotice error={shown} />
        <p>
          <a href={back}>Back</a>
        </p>
      </>
    );
    const session = c.get("session");
    if (session) return page(c, "Something went wrong", null, body, e.status);
    return c.html(<Standalone title="Something went wrong">{body}</Standalone>, e.status as 400);
  }
  console.error(JSON.stringify({ msg: "dashboard error", method: c.req.method, path: c.req.path.startsWith("/p/") ? "/p/[redacted]" : c.req.path, error: e instanceof Error ? `${e.name}: ${e.message}` : "non-error" }));
  return c.html(
    <Standalone title="Internal error">
      <ErrorNotice error={{ code: "internal", message: "Internal error." }} />
    </Standalone>,
    500,
  );
}
