/** @module dashboard/passes/list — a template's passes: search by externalId, filter by status, pages. */
import type { PassView, TemplateView } from "../../passes";
import { StatusBadge, Time } from "../layout";

export interface PassListProps {
  templates: TemplateView[];
  templateId: number | null;
  externalId: string;
  status: string;
  filters: readonly string[];
  passes: PassView[];
  nextCursor: string | null;
  notFound: boolean;
}

export function PassList(props: PassListProps) {
  const q = (cursor: string) =>
    `/dashboard/passes?${new URLSearchParams({ templateId: String(props.templateId ?? ""), status: props.status, cursor }).toString()}`;
  return (
    <>
      <form method="get" action="/dashboard/passes" class="filters">
        <div>
          <label for="templateId">Template</label>
          <select id="templateId" name="templateId">
            {props.templates.map((t) => (
              <option value={String(t.id)} selected={t.id === props.templateId}>
                {`${t.name} (#${t.id})`}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="externalId">Pass ID (externalId)</label>
          <input id="externalId" name="externalId" type="search" value={props.externalId} maxlength={200} spellcheck={false} />
        </div>
        <div>
          <label for="status">Status</label>
          <select id="status" name="status">
            <option value="">Any</option>
            {props.filters.map((f) => (
              <option value={f} selected={f === props.status}>
                {f}
              </option>
            ))}
          </select>
        </div>
        <button type="submit">Show passes</button>
      </form>
      {props.templates.length === 0 ? <p>No templates yet.</p> : null}
      {props.notFound ? (
        <p role="status">{`No pass with the ID "${props.externalId}" in this template.`}</p>
      ) : props.passes.length === 0 && props.templates.length ? (
        <p role="status">No passes match.</p>
      ) : props.passes.length ? (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Passes</caption>
            <thead>
              <tr>
                <th scope="col">Pass ID</th>
                <th scope="col">#</th>
                <th scope="col">Status</th>
                <th scope="col">Version</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {props.passes.map((p) => (
                <tr>
                  <th scope="row">
                    <a href={`/dashboard/passes/${p.id}`}>{p.externalId}</a>
                  </th>
                  <td>{String(p.id)}</td>
                  <td>
                    <StatusBadge status={p.status} archived={p.archivedAt !== null} />
                  </td>
                  <td>{String(p.version)}</td>
                  <td>
                    <Time iso={p.updatedAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {props.nextCursor ? (
        <p>
          <a href={q(props.nextCursor)}>More passes</a>
        </p>
      ) : null}
    </>
  );
}
