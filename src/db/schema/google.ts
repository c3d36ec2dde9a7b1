/**
 * What passhook knows about its Google Wallet classes and objects (google-wallet.md §2-§5). Google
 * holds the classes and objects themselves; these rows hold only what we must remember between
 * pushes and callbacks: whether we inserted them, what we last showed, links and installs.
 */
import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { passes, templates, type FieldValues } from "./passes";

/**
 * One row per pass that Google has heard of or that a save link was issued for. The object id is
 * derived (google/ids.ts), never stored.
 * - `inserted_at`: when our insert (or the 409 after it) confirmed the object exists; null = not yet,
 *   so a save link carries the object inline.
 * - `pushed_version` / `pushed_fields`: the pass version and field values Google last accepted; a
 *   change of a `notifyOnChange` field since then becomes a notifying message.
 * - `notify_sent_at`: times (ms) of notifying messages within the last 24 h (Google's cap is 3).
 * - `link_issued_at`: when a save link was last handed out (the reconciliation job only probes
 *   these, for 30 days after it).
 * - `installed_at`: the current install we emitted (save callback or reconciliation), null while
 *   the pass is not saved: a save callback emits install only when it is null, and a delete callback
 *   emits uninstall only when it is set, then clears it. `reconciled_install` says reconciliation
 *   emitted it and no save callback has confirmed it yet.
 * - `uninstalled_at`: the last delete callback; reconciliation never probes such a pass again
 *   (whether Google's `hasUsers` turns false after a delete is not documented).
 * - `checked_at`: last reconciliation probe (round robin, oldest first).
 */
export const googleObjects = sqliteTable(
  "google_objects",
  {
    passId: integer("pass_id")
      .primaryKey()
      .references(() => passes.id),
    projectId: text("project_id").notNull(),
    templateId: integer("template_id").notNull(),
    insertedAt: integer("inserted_at"),
    pushedVersion: integer("pushed_version"),
    pushedFields: text("pushed_fields", { mode: "json" }).$type<FieldValues>(),
    notifySentAt: text("notify_sent_at", { mode: "json" }).$type<number[]>().notNull().default(sql`'[]'`),
    linkIssuedAt: integer("link_issued_at"),
    installedAt: integer("installed_at"),
    uninstalledAt: integer("uninstalled_at"),
    reconciledInstall: integer("reconciled_install", { mode: "boolean" }).notNull().default(false),
    checkedAt: integer("checked_at"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    // A template edit re-shows the template's inserted objects, paged by pass id.
    index("google_objects_template_idx").on(t.templateId, t.passId).where(sql`inserted_at is not null`),
    // Reconciliation: passes with a recent link, never saved; a range by link time keeps older ones unread.
    index("google_objects_probe_idx").on(t.linkIssuedAt).where(sql`link_issued_at is not null and installed_at is null and uninstalled_at is null`),
  ],
);

/**
 * One row per template whose class we wrote. `pushed_at` is the template's updatedAt Google last
 * accepted. `fanout_at` / `fanout_after`: the template version whose inserted objects are being
 * re-shown after an edit, and the last pass id handed on (a cursor, so a large template is re-shown
 * over several queue messages).
 */
export const googleClasses = sqliteTable("google_classes", {
  templateId: integer("template_id")
    .primaryKey()
    .references(() => templates.id, { onDelete: "cascade" }),
  projectId: text("project_id").notNull(),
  insertedAt: integer("inserted_at"),
  pushedAt: integer("pushed_at").notNull().default(0),
  fanoutAt: integer("fanout_at").notNull().default(0),
  fanoutAfter: integer("fanout_after").notNull().default(0),
  updatedAt: integer("updated_at").notNull(),
});

/**
 * Nonces of verified callbacks ("track any duplicate deliveries", google-wallet.md §5): the primary
 * key makes a duplicate, even a concurrent one, emit nothing. Kept 7 days, deleted by the cron in
 * bounded statements through `received_at`.
 */
export const googleCallbackNonces = sqliteTable(
  "google_callback_nonces",
  {
    nonce: text("nonce").primaryKey(),
    passId: integer("pass_id").notNull(),
    eventType: text("event_type").notNull(),
    receivedAt: integer("received_at").notNull(),
  },
  (t) => [index("google_callback_nonces_received_idx").on(t.receivedAt)],
);

export type GoogleObjectRecord = typeof googleObjects.$inferSelect;
export type GoogleClassRecord = typeof googleClasses.$inferSelect;
