/**
 * @module dashboard/holder/page
 * The public page a holder opens from an email or a text: the pass's name and key fields, and the
 * wallet buttons (the visitor's platform first). A voided, expired, redeemed or archived pass says so
 * plainly and offers no button. A wallet the business has not set up gets a sentence, not a button.
 * Badge artwork lives in public/static/wallet-badges/ (swap in the official files there).
 */
import type { PublicPass } from "../../passes";
import { Document } from "../layout";
import type { WalletAvailability } from "../context";
import type { Wallet } from "./platform";

const ENDED: Record<string, { title: string; text: string }> = {
  archived: { title: "This pass is no longer available", text: "The business has withdrawn this pass. If you think this is a mistake, contact them." },
  voided: { title: "This pass has been voided", text: "It is no longer valid and cannot be added to a wallet." },
  expired: { title: "This pass has expired", text: "It is no longer valid. The business may renew it; this page will then offer it again." },
  redeemed: { title: "This pass has been redeemed", text: "It has been used and cannot be added again." },
};

/** The state a holder sees: archived wins over the last status. */
export function holderState(p: PublicPass["pass"]): "active" | keyof typeof ENDED {
  if (p.archivedAt) return "archived";
  return p.status as "active" | keyof typeof ENDED;
}

function Badge(props: { wallet: Wallet; base: string; available: boolean }) {
  if (props.wallet === "apple") {
    return props.available ? (
      <a class="wallet-badge" href={`${props.base}/pass.pkpass`}>
        <img src="/static/wallet-badges/add-to-apple-wallet.svg" alt="Add to Apple Wallet" width="152" height="48" />
      </a>
    ) : (
      <p class="wallet-missing">Apple Wallet: this business has not set up Apple Wallet passes yet.</p>
    );
  }
  return props.available ? (
    <a class="wallet-badge" href={`${props.base}/google`}>
      <img src="/static/wallet-badges/add-to-google-wallet.svg" alt="Add to Google Wallet" width="174" height="48" />
    </a>
  ) : (
    <p class="wallet-missing">Google Wallet: this business has not set up Google Wallet passes yet.</p>
  );
}

export interface HolderPageProps {
  found: PublicPass;
  token: string;
  wallets: WalletAvailability;
  order: Wallet[];
}

export function HolderPage(props: HolderPageProps) {
  const { pass, template } = props.found;
  const state = holderState(pass);
  const ended = state === "active" ? null : ENDED[state];
  // Key fields only: a public page shows no contact data (email) and at most eight values. A withdrawn
  // or voided pass shows none: its link cannot be revoked, so it should stop showing the holder's data.
  const hidden = state === "archived" || state === "voided";
  const shown = hidden ? [] : template.fields.filter((f) => f.type !== "email" && pass.fields[f.key] !== undefined && pass.fields[f.key] !== "").slice(0, 8);
  const base = `/p/${props.token}`;
  return (
    <Document title={template.name}>
      <body class="holder">
        <main id="main" class="narrow">
          <h1>{template.name}</h1>
          <dl class="pass-card">
            {shown.map((f) => (
              <div>
                <dt>{f.label}</dt>
                <dd>{String(pass.fields[f.key])}</dd>
              </div>
            ))}
          </dl>
          {ended ? (
            <div class="notice notice-error" role="status">
              <h2>{ended.title}</h2>
              <p>{ended.text}</p>
            </div>
          ) : (
            <section aria-labelledby="add-h">
              <h2 id="add-h">Add this pass to your phone</h2>
              <div class="wallets">
                {props.order.map((w) => (
                  <Badge wallet={w} base={base} available={props.wallets[w]} />
                ))}
              </div>
            </section>
          )}
        </main>
      </body>
    </Document>
  );
}

export function HolderNotFound() {
  return (
    <Document title="Pass not found">
      <body class="holder">
        <main id="main" class="narrow">
          <h1>Pass not found</h1>
          <p>This link does not lead to a pass. Check that you copied all of it, or ask the business for a new link.</p>
        </main>
      </body>
    </Document>
  );
}
