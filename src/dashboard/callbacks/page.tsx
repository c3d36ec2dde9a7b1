/**
 * @module dashboard/callbacks/page
 * The callback server: register or replace it, delete it, rotate its signing secret, send a test
 * event, and the delivery log with a status filter.
 */
import { Csrf, ErrorNotice, Notice, Time, type ShownError } from "../layout";

export interface Registration {
  baseUrl: string;
  headers: Record<string, string>;
  enabled: boolean;
  disabledReason: string | null;
  updatedAt: string;
}

export interface DeliveryRow {
  id: string;
  event: string;
  passId: number;
  status: string;
  test: boolean;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: string;
}

export interface CallbacksProps {
  csrf: string;
  registration: Registration | null;
  /** A signing secret shown once (first registration or rotation). */
  secret?: string;
  done?: string;
  error?: ShownError | null;
  form?: { baseUrl: string; headers: string };
  deliveries: DeliveryRow[];
  nextCursor: string | null;
  status: string;
  statuses: readonly string[];
}

export function CallbacksPage(props: CallbacksProps) {
  const r = props.registration;
  return (
    <>
      {props.done ? <Notice kind="ok">{props.done}</Notice> : null}
      <ErrorNotice error={props.error} />
      {props.secret ? (
        <div class="notice notice-ok" role="status">
          <p>
            <strong>Signing secret (shown once):</strong> verify deliveries with any Standard Webhooks library.
          </p>
          <div class="copy-row">
            <label class="visually-hidden" for="signing-secret">
              Signing secret
            </label>
            <input id="signing-secret" readonly value={props.secret} class="mono" />
            <button type="button" class="copy" data-copy="signing-secret">
              Copy secret
            </button>
          </div>
        </div>
      ) : null}

      <section aria-labelledby="reg-h">
        <h2 id="reg-h">Callback server</h2>
        {r ? (
          <dl class="facts">
            <dt>Base URL</dt>
            <dd>
              <code>{r.baseUrl}</code>
            </dd>
            <dt>Headers</dt>
            <dd>{Object.keys(r.headers).length ? Object.entries(r.headers).map(([k, v]) => <div><code>{`${k}: ${v}`}</code></div>) : "None"}</dd>
            <dt>State</dt>
            <dd>{r.enabled ? "Enabled" : `Disabled (${r.disabledReason ?? "the server answered 410"}): register again to resume`}</dd>
            <dt>Updated</dt>
            <dd>
              <Time iso={r.updatedAt} />
            </dd>
          </dl>
        ) : (
          <p>No callback server is registered: holder events (install, uninstall, personalize) are not sent anywhere.</p>
        )}
        <form method="post" action="/dashboard/callbacks" class="stack">
          <Csrf token={props.csrf} />
          <label for="baseUrl">Base URL</label>
          <input id="baseUrl" name="baseUrl" type="url" required maxlength={2048} value={props.form?.baseUrl ?? r?.baseUrl ?? ""} placeholder="https://example.com/passhook" aria-describedby="base-help" />
          <p id="base-help" class="hint">
            passhook POSTs to <code>/v1/pass/install</code>, <code>/v1/pass/uninstall</code> and <code>/v1/pass/&#123;passId&#125;/personalize</code> under it.
          </p>
          <label for="headers">Headers (one "Name: value" a line, optional)</label>
          <textarea id="headers" name="headers" rows={3} class="mono" aria-describedby="headers-help">
            {props.form?.headers ?? ""}
          </textarea>
          <p id="headers-help" class="hint">Stored encrypted and shown masked. Replacing the registration replaces its headers: enter them again.</p>
          <button type="submit">{r ? "Replace registration" : "Register"}</button>
        </form>
      </section>

      {r ? (
        <section aria-labelledby="test-h">
          <h2 id="test-h">Send a test event</h2>
          <form method="post" action="/dashboard/callbacks/test" class="filters">
            <Csrf token={props.csrf} />
            <div>
              <label for="event">Event</label>
              <select id="event" name="event">
                <option value="install">install</option>
                <option value="uninstall">uninstall</option>
                <option value="personalize">personalize</option>
              </select>
            </div>
            <div>
              <label for="passId">Pass # (number)</label>
              <input id="passId" name="passId" inputmode="numeric" pattern="[0-9]+" required />
            </div>
            <button type="submit">Send test</button>
          </form>
        </section>
      ) : null}

      <section aria-labelledby="log-h">
        <h2 id="log-h">Delivery log</h2>
        <form method="get" action="/dashboard/callbacks" class="filters">
          <div>
            <label for="status">Status</label>
            <select id="status" name="status">
              <option value="">Any</option>
              {props.statuses.map((s) => (
                <option value={s} selected={s === props.status}>
                  {s}
                </option>
              ))}
            </select>
          </div>
          <button type="submit" class="secondary">
            Filter
          </button>
        </form>
        {props.deliveries.length === 0 ? (
          <p>No deliveries.</p>
        ) : (
          <div class="table-wrap">
            <table>
              <caption class="visually-hidden">Deliveries, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Created</th>
                  <th scope="col">Event</th>
                  <th scope="col">Pass</th>
                  <th scope="col">Status</th>
                  <th scope="col">Attempts</th>
                  <th scope="col">Last result</th>
                </tr>
              </thead>
              <tbody>
                {props.deliveries.map((d) => (
                  <tr>
                    <td>
                      <a href={`/dashboard/callbacks/deliveries/${d.id}`}>
                        <Time iso={d.createdAt} />
                      </a>
                    </td>
                    <td>
                      {d.event}
                      {d.test ? " (test)" : ""}
                    </td>
                    <td>
                      <a href={`/dashboard/passes/${d.passId}`}>{`#${d.passId}`}</a>
                    </td>
                    <td>{d.status}</td>
                    <td>{String(d.attempts)}</td>
                    <td>{d.lastError ?? (d.lastStatusCode !== null ? String(d.lastStatusCode) : "—")}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {props.nextCursor ? (
          <p>
            <a href={`/dashboard/callbacks?${new URLSearchParams({ status: props.status, cursor: props.nextCursor })}`}>Older deliveries</a>
          </p>
        ) : null}
      </section>

      {r ? (
        <section aria-labelledby="manage-cb-h">
          <h2 id="manage-cb-h">Manage</h2>
          <form method="post" action="/dashboard/callbacks/rotate-secret" class="inline">
            <Csrf token={props.csrf} />
            <button type="submit" class="secondary">
              Rotate signing secret
            </button>
          </form>
          <p class="hint">The old secret keeps signing alongside the new one for 24 hours.</p>
          <form method="post" action="/dashboard/callbacks/delete" class="stack danger-zone">
            <Csrf token={props.csrf} />
            <div class="check">
              <input type="checkbox" id="confirm-cb-delete" name="confirm" value="yes" required />
              <label for="confirm-cb-delete">Yes, remove the callback server registration</label>
            </div>
            <button type="submit" class="danger">
              Delete registration
            </button>
          </form>
        </section>
      ) : null}
    </>
  );
}
