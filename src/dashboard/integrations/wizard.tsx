/**
 * @module dashboard/integrations/wizard
 * The create wizard in WalletThat's steps: choose a template and an action (steps 3-4), review the
 * fields the sender must post and rename or remove them (step 5), save and copy the listener URL
 * (step 6). Every step is a plain form; the script adds the live preview and copy buttons.
 */
import type { TemplateView } from "../../passes";
import { Csrf, ErrorNotice, type ShownError } from "../layout";
import { ACTION_INFO, type Action, type MappingRow } from "./actions";
import { MappingTable, PayloadPreview } from "./mapping-table";

function Steps(props: { current: 1 | 2 | 3 }) {
  const steps = ["Template and action", "Fields", "Listener URL"];
  return (
    <ol class="steps" aria-label="Wizard steps">
      {steps.map((s, i) => (
        <li aria-current={props.current === i + 1 ? "step" : undefined}>{s}</li>
      ))}
    </ol>
  );
}

export function ChooseStep(props: { templates: TemplateView[]; templateId?: number; action?: Action; error?: ShownError | null }) {
  const actions = Object.entries(ACTION_INFO) as [Action, (typeof ACTION_INFO)[Action]][];
  return (
    <>
      <Steps current={1} />
      <ErrorNotice error={props.error} />
      {props.templates.length === 0 ? (
        <p>This project has no pass templates yet. Create one with the API first (POST /v1/project/&#123;id&#125;/templates).</p>
      ) : (
        <form method="get" action="/dashboard/integrations/new" class="stack">
          <label for="templateId">Pass template</label>
          <select id="templateId" name="templateId" required>
            {props.templates.map((t) => (
              <option value={String(t.id)} selected={props.templateId === t.id}>
                {`${t.name} (${t.passType}, #${t.id})`}
              </option>
            ))}
          </select>
          <label for="action">Action</label>
          <select id="action" name="action" required aria-describedby="action-help">
            {actions.map(([a, info]) => (
              <option value={a} selected={props.action === a}>
                {`${info.label} — ${info.explain}`}
              </option>
            ))}
          </select>
          <dl id="action-help" class="action-help">
            {actions.map(([a, info]) => (
              <>
                <dt>{info.label}</dt>
                <dd data-action={a}>{info.explain}</dd>
              </>
            ))}
          </dl>
          <button type="submit">Next: review fields</button>
        </form>
      )}
    </>
  );
}

export interface FieldsStepProps {
  csrf: string;
  template: TemplateView;
  action: Action;
  rows: MappingRow[];
  payload: unknown;
  name: string;
  error?: ShownError | null;
}

export function FieldsStep(props: FieldsStepProps) {
  const info = ACTION_INFO[props.action];
  return (
    <>
      <Steps current={2} />
      <p>
        <strong>{props.template.name}</strong> · {info.label}. <a href={`/dashboard/integrations/new?templateId=${props.template.id}&action=${props.action}&step=1`}>Change</a>
      </p>
      <ErrorNotice error={props.error} />
      <form method="post" action="/dashboard/integrations" class="stack" data-preview="/dashboard/integrations/preview">
        <Csrf token={props.csrf} />
        <input type="hidden" name="templateId" value={String(props.template.id)} />
        <input type="hidden" name="action" value={props.action} />
        {props.rows.length === 1 ? <p class="hint">This action reads only the pass-id: the pass it applies to. You can rename its key.</p> : null}
        <MappingTable rows={props.rows} />
        <button type="submit" name="intent" value="preview" class="secondary js-hide">
          Update preview
        </button>
        <PayloadPreview payload={props.payload} />
        <label for="name">Name (optional)</label>
        <input id="name" name="name" value={props.name} maxlength={200} placeholder={`${props.action} ${props.template.name}`} />
        <label for="signingSecret">Signing secret (optional, 16 or more characters)</label>
        <input id="signingSecret" name="signingSecret" type="password" autocomplete="new-password" minlength={16} maxlength={512} aria-describedby="secret-help" />
        <p id="secret-help" class="hint">
          With a secret, every request must carry a Standard Webhooks signature or <code>X-Passhook-Signature</code>.
        </p>
        <button type="submit" name="intent" value="save">
          Save integration
        </button>
      </form>
    </>
  );
}

export interface CreatedProps {
  id: string;
  title: string;
  listenerUrl: string;
  curl: string;
  signed: boolean;
}

/** The listener URL, shown once (only its hash is stored), with a copy button and a ready curl. */
export function ListenerUrlShown(props: CreatedProps) {
  return (
    <>
      <Steps current={3} />
      <div class="notice notice-ok" role="status">
        <p>
          <strong>{props.title}</strong> Copy the listener URL now: it is shown only once.
        </p>
      </div>
      <label for="listener-url">Listener URL</label>
      <div class="copy-row">
        <input id="listener-url" readonly value={props.listenerUrl} class="mono" />
        <button type="button" class="copy" data-copy="listener-url">
          Copy URL
        </button>
      </div>
      <p>Configure this URL in the third-party system (CRM, form tool, Zapier) as the webhook target.</p>
      <label for="ready-curl">Try it from a terminal</label>
      <div class="copy-row">
        <textarea id="ready-curl" readonly rows={5} class="mono">
          {props.curl}
        </textarea>
        <button type="button" class="copy" data-copy="ready-curl">
          Copy curl
        </button>
      </div>
      {props.signed ? <p class="hint">The curl carries an X-Passhook-Signature computed from your secret for exactly this body.</p> : null}
      <p>
        <a href={`/dashboard/integrations/${props.id}`}>Open the integration</a> · <a href={`/dashboard/integrations/${props.id}/events`}>Event log</a> ·{" "}
        <a href="/dashboard/integrations">All integrations</a>
      </p>
    </>
  );
}
