/**
 * @module dashboard/integrations/mapping-table
 * The "review the fields the sender must post" table (WalletThat step 5): one row per field with a
 * rename input and a remove checkbox; pass-id is locked (rename only). Used by the wizard and by the
 * integration's edit form.
 */
import type { MappingRow } from "./actions";

export function MappingTable(props: { rows: MappingRow[] }) {
  return (
    <div class="table-wrap">
      <table class="mapping">
        <caption>Fields the sender posts</caption>
        <thead>
          <tr>
            <th scope="col">Pass field</th>
            <th scope="col">Type</th>
            <th scope="col">Sender's key</th>
            <th scope="col">Remove</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((r) => (
            <tr>
              <th scope="row">
                {r.label} <code>{r.target}</code>
                {r.required ? <span class="req"> (required)</span> : null}
              </th>
              <td>{r.type}</td>
              <td>
                <label class="visually-hidden" for={`src-${r.target}`}>{`Sender's key for ${r.label}`}</label>
                <input id={`src-${r.target}`} name={`src.${r.target}`} value={r.source} spellcheck={false} autocomplete="off" maxlength={200} />
              </td>
              <td>
                {r.locked ? (
                  <span class="locked">Always sent</span>
                ) : (
                  <>
                    <input type="checkbox" id={`rm-${r.target}`} name={`remove.${r.target}`} checked={r.removed} />
                    <label for={`rm-${r.target}`}>
                      <span class="visually-hidden">{`Remove ${r.label}`}</span>
                      <span aria-hidden="true">Remove</span>
                    </label>
                  </>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function PayloadPreview(props: { payload: unknown }) {
  return (
    <section aria-labelledby="preview-h" class="preview">
      <h2 id="preview-h">What the sender posts</h2>
      <p class="hint">An example JSON body for the listener URL (form posts with the same keys work too).</p>
      <pre id="payload-preview" aria-live="polite" tabindex={0}>
        {JSON.stringify(props.payload, null, 2)}
      </pre>
    </section>
  );
}
