/** Per-project wallet credentials and the per-wallet push jobs that carry changes to phones. */
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { projects } from "./projects";

export type WalletName = "apple" | "google";

/**
 * A project's credentials for one wallet. `secret_enc` is the validated secret part (keys,
 * certificates) as JSON, AES-GCM under MASTER_KEY bound to (project, wallet); `summary` is what the
 * API shows (identifiers, subjects, expiry; never key material). `version` changes with every save,
 * so caches of parsed keys (signers, tokens) know when to reload.
 */
export const walletCredentials = sqliteTable(
  "wallet_credentials",
  {
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    wallet: text("wallet").$type<WalletName>().notNull(),
    version: integer("version").notNull(),
    secretEnc: text("secret_enc").notNull(),
    summary: text("summary", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.wallet] })],
);

export type WalletJobState = "pending" | "done" | "failed";

/**
 * One row per (wallet, subject): the wallet's work for a pass (`p:<passId>`) or a template
 * (`t:<templateId>`), coalesced. `wanted_at` is the time of the newest change the wallet must show
 * (a pass's or template's updatedAt); `done_at` the change last delivered. A job is due while
 * `wanted_at > done_at`: ten changes in a second make one push of the latest state. `failed` keeps the
 * record of a push whose retries ran out (dead-lettered); a later change makes it pending again.
 * `next_attempt_at` is when the job's latest queue message should run: the time it was sent, or the
 * time a consumer's retry is due (`msg.retry({delaySeconds})`, up to hours). The cron re-sends a
 * pending job only once that is 15 minutes past (its message was lost), never during a backoff.
 */
export const walletJobs = sqliteTable(
  "wallet_jobs",
  {
    wallet: text("wallet").$type<WalletName>().notNull(),
    subject: text("subject").notNull(),
    projectId: text("project_id").notNull(),
    wantedAt: integer("wanted_at").notNull(),
    doneAt: integer("done_at").notNull().default(0),
    state: text("state").$type<WalletJobState>().notNull(),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    nextAttemptAt: integer("next_attempt_at").notNull().default(0),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.wallet, t.subject] }),
    index("wallet_jobs_state_idx").on(t.state, t.updatedAt),
    // The cron's sweep: pending jobs whose message is overdue.
    index("wallet_jobs_due_idx").on(t.state, t.nextAttemptAt),
  ],
);

export type WalletCredentialsRecord = typeof walletCredentials.$inferSelect;
export type WalletJobRecord = typeof walletJobs.$inferSelect;
