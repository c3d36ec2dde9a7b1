/**
 * @module dashboard/integrations/detail
 * One integration: its facts, the mapping editor (same table as the wizard), enable/disable, a new
 * listener URL (rotate), and delete behind a required confirmation.
 */
import type { TemplateView } from "../../passes";
import { Csrf, ErrorNotice, Notice, Time, type ShownError } from "../layout";
import { ACTION_INFO, type Action, type MappingRow } from "./actions";
import { MappingTable, PayloadPreview } from "./mapping-table";

export interface IntegrationFacts {
  id: string;
  name: string;
  action: Action;
  enabled: boolean;
  signed: boolean;
  listenerUrlHint: string;
  expectedPayload: unknown;
  createdAt: string;
  updatedAt: string;
}

export function IntegrationDetail(props: { csrf: string; i: IntegrationFacts; template: TemplateView; rows: MappingRow[]; done?: string; error?: ShownError | null }) {
  const { i } = props;
  const base = `/dashboard/integrations/${i.id}`;
  return (
    <>
      {props.done ? <Notice kind="ok">{props.done}</Notice> : null}
      <ErrorNotice error={props.error} />
      <dl class="facts">
        <dt>Action</dt>
        <dd>{ACTION_INFO[i.action].label}</dd>
        <dt>Template</dt>
        <dd>{`${props.template.name} (#${props.template.id})`}</dd>
        <dt>Status</dt>
        <dd>{i.enabled ? "Enabled" : "Disabled: its listener URL answers 404"}</dd>
        <dt>Listener URL</dt>
        <dd>
          <code>{i.listenerUrlHint}</code> <span class="hint">(shown in full only when created or rotated)</span>
        </dd>
        <dt>Signed</dt>
        <dd>{i.signed ? "Yes" : "No"}</dd>
        <dt>Updated</dt>
        <dd>
          <Time iso={i.updatedAt} />
        </dd>
      </dl>
      <p>
        <a href={`${base}/events`}>Event log and replay</a>
      </p>

      <section aria-labelledby="mapping-h">
        <h2 id="mapping-h">Field mapping</h2>
        <form method="post" action={`${base}/mapping`} class="stack" data-preview="/dashboard/integrations/preview">
          <Csrf token={props.csrf} />
          <input type="hidden" name="templateId" value={String(props.template.id)} />
          <input type="hidden" name="action" value={i.action} />
          <MappingTable rows={props.rows} />
          <PayloadPreview payload={i.expectedPayload} />
          <button type="submit">Save mapping</button>
        </form>
      </section>

      <section aria-labelledby="manage-h">
        <h2 id="manage-h">Manage</h2>
        <form method="post" action={`${base}/enabled`} class="inline">
          <Csrf token={props.csrf} />
          <input type="hidden" name="enabled" value={i.enabled ? "false" : "true"} />
          <button type="submit" class="secondary">
            {i.enabled ? "Disable" : "Enable"}
          </button>
        </form>
        <form method="post" action={`${base}/rotate`} class="inline">
          <Csrf token={props.csrf} />
          <button type="submit" class="secondary">
            Issue a new listener URL
          </button>
        </form>
        <p class="hint">A new URL replaces the old one: within 5 seconds the old URL answers 404.</p>
        <form method="post" action={`${base}/delete`} class="stack danger-zone">
          <Csrf token={props.csrf} />
          <div class="check">
            <input type="checkbox" id="confirm-delete" name="confirm" value="yes" required />
            <label for="confirm-delete">Yes, delete this integration and its listener URL</label>
          </div>
          <button type="submit" class="danger">
            Delete integration
          </button>
        </form>
      </section>
    </>
  );
}
