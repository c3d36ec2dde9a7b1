/** @module dashboard/integrations/list — the project's integrations: action, template, enabled, last event. */
import { Notice, Time } from "../layout";
import { ACTION_INFO, type Action } from "./actions";

export interface IntegrationRow {
  id: string;
  name: string;
  action: Action;
  templateName: string;
  enabled: boolean;
  lastEvent: { receivedAt: string; statusCode: number } | null;
}

export function IntegrationList(props: { rows: IntegrationRow[]; done?: string }) {
  return (
    <>
      {props.done ? <Notice kind="ok">{props.done}</Notice> : null}
      <p>
        <a class="button" href="/dashboard/integrations/new">
          New integration
        </a>
      </p>
      {props.rows.length === 0 ? (
        <p>No integrations yet. An integration gives a third-party system a listener URL that runs one action on a pass template.</p>
      ) : (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Integrations</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Action</th>
                <th scope="col">Template</th>
                <th scope="col">Enabled</th>
                <th scope="col">Last event</th>
              </tr>
            </thead>
            <tbody>
              {props.rows.map((r) => (
                <tr>
                  <th scope="row">
                    <a href={`/dashboard/integrations/${r.id}`}>{r.name}</a>
                  </th>
                  <td>{ACTION_INFO[r.action].label}</td>
                  <td>{r.templateName}</td>
                  <td>{r.enabled ? "Yes" : "No (disabled)"}</td>
                  <td>
                    {r.lastEvent ? (
                      <a href={`/dashboard/integrations/${r.id}/events`}>
                        <Time iso={r.lastEvent.receivedAt} /> · {String(r.lastEvent.statusCode)}
                      </a>
                    ) : (
                      "None yet"
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
