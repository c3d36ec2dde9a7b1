/**
 * @module dashboard/layout
 * The page frame shared by every dashboard page: landmarks (skip link, header, nav, main), one h1,
 * the stylesheet and the small progressive-enhancement script (both same-origin static files, so the
 * Content-Security-Policy needs no inline code).
 */
import type { Child } from "hono/jsx";
import { raw } from "hono/html";
import { CSRF_FIELD } from "./csrf";

export type Section = "integrations" | "passes" | "callbacks" | null;

const NAV: { id: Exclude<Section, null>; href: string; label: string }[] = [
  { id: "integrations", href: "/dashboard/integrations", label: "Integrations" },
  { id: "passes", href: "/dashboard/passes", label: "Passes" },
  { id: "callbacks", href: "/dashboard/callbacks", label: "Callbacks" },
];

export function Document(props: { title: string; children: Child }) {
  return (
    <>
      {raw("<!doctype html>")}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="referrer" content="same-origin" />
          <title>{`${props.title} · passhook`}</title>
          <link rel="stylesheet" href="/static/dashboard.css" />
          <script src="/static/dashboard.js" defer></script>
        </head>
        {props.children}
      </html>
    </>
  );
}

export interface LayoutProps {
  title: string;
  section: Section;
  csrf: string;
  projectId: string;
  children: Child;
}

export function Layout(props: LayoutProps) {
  return (
    <Document title={props.title}>
      <body>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="top">
          <a class="brand" href="/dashboard">
            passhook
          </a>
          <nav aria-label="Main">
            <ul>
              {NAV.map((n) => (
                <li>
                  <a href={n.href} aria-current={props.section === n.id ? "page" : undefined}>
                    {n.label}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
          <form method="post" action="/dashboard/sign-out" class="sign-out">
            <Csrf token={props.csrf} />
            <span class="project">{props.projectId}</span>
            <button type="submit" class="link-button">
              Sign out
            </button>
          </form>
        </header>
        <main id="main" tabindex={-1}>
          <h1>{props.title}</h1>
          {props.children}
        </main>
      </body>
    </Document>
  );
}

export function Csrf(props: { token: string }) {
  return <input type="hidden" name={CSRF_FIELD} value={props.token} />;
}

/** A status line: `ok` is announced politely, `error` as an alert. */
export function Notice(props: { kind: "ok" | "error" | "info"; children: Child }) {
  return (
    <div class={`notice notice-${props.kind}`} role={props.kind === "error" ? "alert" : "status"}>
      {props.children}
    </div>
  );
}

export interface ShownError {
  code: string;
  message: string;
  issues?: { path: string; message: string }[];
}

/** The API's own message (and field issues), as the REST API would answer. */
export function ErrorNotice(props: { error: ShownError | null | undefined }) {
  const e = props.error;
  if (!e) return null;
  return (
    <Notice kind="error">
      <p>
        <strong>{e.message}</strong> <span class="code">({e.code})</span>
      </p>
      {e.issues?.length ? (
        <ul>
          {e.issues.map((i) => (
            <li>
              <code>{i.path}</code>: {i.message}
            </li>
          ))}
        </ul>
      ) : null}
    </Notice>
  );
}

export function StatusBadge(props: { status: string; archived?: boolean }) {
  return (
    <span class={`badge badge-${props.archived ? "archived" : props.status}`}>
      {props.status}
      {props.archived ? " · archived" : ""}
    </span>
  );
}

export function Time(props: { iso: string | null | undefined }) {
  if (!props.iso) return <span>—</span>;
  return <time datetime={props.iso}>{props.iso.replace("T", " ").replace(/\.\d+Z$/, " UTC")}</time>;
}
