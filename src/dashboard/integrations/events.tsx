/** @module dashboard/integrations/events — one integration's inbound event log, with one-click replay. */
import { Csrf, Notice, Time } from "../layout";
import { redactBody } from "../redact";

export interface EventRow {
  id: string;
  receivedAt: string;
  statusCode: number;
  passId: number | null;
  error: { code: string; message: string | null } | null;
  body: string | null;
  contentType: string | null;
  bodyTruncated: boolean;
  /** False when only the start of a long body was read for the list. */
  bodyComplete: boolean;
  replayOf: string | null;
  duplicateOf: string | null;
}

const NOT_REPLAYABLE = new Set([401, 413, 429]);

export function EventLog(props: { csrf: string; integrationId: string; name: string; events: EventRow[]; nextCursor: string | null; replayed?: string }) {
  const base = `/dashboard/integrations/${props.integrationId}`;
  return (
    <>
      <p>
        <a href={base}>{`← ${props.name}`}</a>
      </p>
      {props.replayed ? (
        <Notice kind="ok">
          Replayed as <code>{props.replayed}</code> (top of the list) through the integration's current mapping.
        </Notice>
      ) : null}
      {props.events.length === 0 ? (
        <p>No requests yet. Every request to the listener URL appears here.</p>
      ) : (
        <div class="table-wrap">
          <table class="events">
            <caption class="visually-hidden">Events, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Status</th>
                <th scope="col">Pass</th>
                <th scope="col">Error</th>
                <th scope="col">Body</th>
                <th scope="col">Replay</th>
              </tr>
            </thead>
            <tbody>
              {props.events.map((e) => (
                <tr id={e.id} class={props.replayed === e.id ? "highlight" : undefined}>
                  <td>
                    <Time iso={e.receivedAt} />
                    {e.replayOf ? <div class="hint">{`replay of ${e.replayOf}`}</div> : null}
                    {e.duplicateOf ? <div class="hint">{`repeat of ${e.duplicateOf}`}</div> : null}
                  </td>
                  <td>
                    <span class={`http http-${Math.floor(e.statusCode / 100)}xx`}>{String(e.statusCode)}</span>
                  </td>
                  <td>{e.passId ? <a href={`/dashboard/passes/${e.passId}`}>{`#${e.passId}`}</a> : "—"}</td>
                  <td>{e.error ? `${e.error.message ?? ""} (${e.error.code})` : "—"}</td>
                  <td>
                    <details>
                      <summary>{e.bodyTruncated ? "Too large (not kept)" : e.body === null ? "Body not kept" : e.bodyComplete ? "Show body" : "Show the start of the body"}</summary>
                      <pre>{e.body === null ? "" : redactBody(e.body, e.contentType)}</pre>
                    </details>
                  </td>
                  <td>
                    {NOT_REPLAYABLE.has(e.statusCode) || e.bodyTruncated || e.body === null || e.duplicateOf !== null ? (
                      <span class="hint">Not replayable</span>
                    ) : (
                      <form method="post" action={`${base}/events/${e.id}/replay`}>
                        <Csrf token={props.csrf} />
                        <button type="submit" class="secondary" aria-label={`Replay event ${e.id}`}>
                          Replay
                        </button>
                      </form>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {props.nextCursor ? (
        <p>
          <a href={`${base}/events?cursor=${encodeURIComponent(props.nextCursor)}`}>Older events</a>
        </p>
      ) : null}
    </>
  );
}
