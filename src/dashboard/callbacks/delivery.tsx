/** @module dashboard/callbacks/delivery — one delivery: its request, every attempt, and resend. */
import { Csrf, Notice, Time } from "../layout";

export interface DeliveryDetailProps {
  csrf: string;
  d: {
    id: string;
    event: string;
    passId: number;
    path: string;
    body: Record<string, unknown>;
    status: string;
    test: boolean;
    attempts: number;
    nextAttemptAt: string | null;
    createdAt: string;
    attemptLog: { attempt: number; at: string; statusCode: number | null; durationMs: number | null; response: string | null; error: string | null }[];
  };
  done?: string;
}

export function DeliveryDetail(props: DeliveryDetailProps) {
  const { d } = props;
  const settled = d.status === "succeeded" || d.status === "failed";
  return (
    <>
      <p>
        <a href="/dashboard/callbacks">← Callbacks</a>
      </p>
      {props.done ? <Notice kind="ok">{props.done}</Notice> : null}
      <dl class="facts">
        <dt>Event</dt>
        <dd>{`${d.event}${d.test ? " (test)" : ""}`}</dd>
        <dt>Request</dt>
        <dd>
          <code>{`POST {baseUrl}${d.path}`}</code>
        </dd>
        <dt>webhook-id</dt>
        <dd>
          <code>{d.id}</code>
        </dd>
        <dt>Status</dt>
        <dd>{d.status}</dd>
        <dt>Created</dt>
        <dd>
          <Time iso={d.createdAt} />
        </dd>
        {d.nextAttemptAt ? (
          <>
            <dt>Next attempt</dt>
            <dd>
              <Time iso={d.nextAttemptAt} />
            </dd>
          </>
        ) : null}
      </dl>
      <h2>Body</h2>
      <pre>{JSON.stringify(d.body, null, 2)}</pre>
      <h2>Attempts</h2>
      {d.attemptLog.length === 0 ? (
        <p>No attempt yet.</p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Time</th>
                <th scope="col">HTTP status</th>
                <th scope="col">Duration</th>
                <th scope="col">Response or error</th>
              </tr>
            </thead>
            <tbody>
              {d.attemptLog.map((a) => (
                <tr>
                  <td>{String(a.attempt)}</td>
                  <td>
                    <Time iso={a.at} />
                  </td>
                  <td>{a.statusCode === null ? "—" : String(a.statusCode)}</td>
                  <td>{a.durationMs === null ? "—" : `${a.durationMs} ms`}</td>
                  <td>
                    <code class="changes">{a.error ?? a.response ?? ""}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {settled ? (
        <form method="post" action={`/dashboard/callbacks/deliveries/${d.id}/resend`}>
          <Csrf token={props.csrf} />
          <button type="submit">Resend</button>
        </form>
      ) : (
        <p class="hint">This delivery is still {d.status}; it will be sent.</p>
      )}
    </>
  );
}
