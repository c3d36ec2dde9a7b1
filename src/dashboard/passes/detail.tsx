/**
 * @module dashboard/passes/detail
 * One pass: its fields (labelled by the template), status, history, the holder page link with its QR
 * code, and the wallet links (present once the project has that wallet set up).
 */
import { raw } from "hono/html";
import type { PassView, TemplateView } from "../../passes";
import type { WalletAvailability } from "../context";
import { StatusBadge, Time } from "../layout";

export interface HistoryEntry {
  version: number;
  kind: string;
  action: string;
  source: string;
  changes: Record<string, unknown>;
  at: string;
}

export interface PassDetailProps {
  pass: PassView;
  template: TemplateView;
  history: HistoryEntry[];
  pageUrl: string;
  qr: string;
  wallets: WalletAvailability;
}

function show(v: unknown): string {
  return v === undefined || v === null || v === "" ? "—" : String(v);
}

export function PassDetail(props: PassDetailProps) {
  const { pass, template } = props;
  return (
    <>
      <p>
        <a href={`/dashboard/passes?templateId=${pass.templateId}`}>{`← ${template.name}`}</a>
      </p>
      <dl class="facts">
        <dt>Status</dt>
        <dd>
          <StatusBadge status={pass.status} archived={pass.archivedAt !== null} />
        </dd>
        <dt>Pass ID (externalId)</dt>
        <dd>
          <code>{pass.externalId}</code>
        </dd>
        <dt>Serial number</dt>
        <dd>
          <code>{pass.serialNumber}</code>
        </dd>
        <dt>Version</dt>
        <dd>{String(pass.version)}</dd>
        <dt>Updated</dt>
        <dd>
          <Time iso={pass.updatedAt} />
        </dd>
      </dl>

      <section aria-labelledby="fields-h">
        <h2 id="fields-h">Fields</h2>
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Field</th>
                <th scope="col">Value</th>
              </tr>
            </thead>
            <tbody>
              {template.fields.map((f) => (
                <tr>
                  <th scope="row">
                    {f.label} <code>{f.key}</code>
                  </th>
                  <td class="value">{show(pass.fields[f.key])}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>

      <section aria-labelledby="links-h">
        <h2 id="links-h">Holder page and wallets</h2>
        <div class="holder-link">
          <div>
            <label for="page-url">Holder page (email or text this link)</label>
            <div class="copy-row">
              <input id="page-url" readonly value={props.pageUrl} class="mono" />
              <button type="button" class="copy" data-copy="page-url">
                Copy link
              </button>
            </div>
            <p>
              <a href={props.pageUrl}>Open the holder page</a>
            </p>
            <ul>
              <li>{props.wallets.apple ? <a href={`${props.pageUrl}/pass.pkpass`}>Apple Wallet pass (.pkpass)</a> : "Apple Wallet: not set up for this project yet."}</li>
              <li>{props.wallets.google ? <a href={`${props.pageUrl}/google`}>Save to Google Wallet link</a> : "Google Wallet: not set up for this project yet."}</li>
            </ul>
          </div>
          <figure>
            {raw(props.qr)}
            <figcaption>Scan to open the holder page</figcaption>
          </figure>
        </div>
      </section>

      <section aria-labelledby="history-h">
        <h2 id="history-h">History</h2>
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Status and field history, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Version</th>
                <th scope="col">What</th>
                <th scope="col">By</th>
                <th scope="col">Changes</th>
              </tr>
            </thead>
            <tbody>
              {props.history.map((h) => (
                <tr>
                  <td>
                    <Time iso={h.at} />
                  </td>
                  <td>{String(h.version)}</td>
                  <td>{h.kind === "holder" ? `holder: ${h.action}` : h.action}</td>
                  <td>
                    <code>{h.source}</code>
                  </td>
                  <td>
                    <code class="changes">{JSON.stringify(h.changes)}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </>
  );
}
