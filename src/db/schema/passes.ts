/** Templates, passes, the append-only pass event log, and the outbox of wallet push tasks. */
import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { projects } from "./projects";

export type FieldType = "text" | "number" | "date" | "url" | "email" | "barcode";
export interface FieldDef {
  key: string;
  label: string;
  type: FieldType;
  required?: boolean;
  default?: string | number | null;
}
export type PassStatus = "active" | "expired" | "voided" | "redeemed";
export type FieldValues = Record<string, string | number>;

export const templates = sqliteTable(
  "templates",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    passType: text("pass_type").notNull(),
    fields: text("fields", { mode: "json" }).$type<FieldDef[]>().notNull(),
    apple: text("apple", { mode: "json" }).$type<Record<string, unknown> | null>(),
    google: text("google", { mode: "json" }).$type<Record<string, unknown> | null>(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("templates_project_idx").on(t.projectId, t.id)],
);

export const passes = sqliteTable(
  "passes",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    projectId: text("project_id").notNull(),
    templateId: integer("template_id")
      .notNull()
      .references(() => templates.id),
    externalId: text("external_id").notNull(),
    serialNumber: text("serial_number").notNull(),
    authenticationToken: text("authentication_token").notNull(),
    status: text("status").$type<PassStatus>().notNull(),
    fields: text("fields", { mode: "json" }).$type<FieldValues>().notNull(),
    version: integer("version").notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    archivedAt: integer("archived_at"),
  },
  (t) => [
    uniqueIndex("passes_template_external_uq").on(t.templateId, t.externalId),
    uniqueIndex("passes_serial_uq").on(t.serialNumber),
  ],
);

/**
 * The pass event log as it was kept in D1 before each pass's history moved into its Durable Object's
 * own storage (passes/history.ts). Nothing writes here any more; a pass object copies its rows once,
 * on first use, and they are then deleted. `kind = 'write'` rows are pass changes, one per version;
 * `kind = 'holder'` rows are install / uninstall / personalize.
 */
export const passEvents = sqliteTable(
  "pass_events",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    passId: integer("pass_id")
      .notNull()
      .references(() => passes.id),
    version: integer("version").notNull(),
    kind: text("kind", { enum: ["write", "holder"] }).notNull(),
    action: text("action").notNull(),
    source: text("source").notNull(),
    changes: text("changes", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    at: integer("at").notNull(),
  },
  (t) => [
    uniqueIndex("pass_events_write_version_uq").on(t.passId, t.version).where(sql`kind = 'write'`),
    index("pass_events_pass_idx").on(t.passId, t.id),
  ],
);

/**
 * Outbox of "something wallets show changed" tasks for the pushes queue, written in the same batch
 * as the change and deleted when every wallet has recorded its work, so the table holds only what is
 * in flight: no index, and the cron sweep's scan for rows the queue never took stays small. A row
 * names a pass (`pass_id`, its new `version`) or a template (`template_id`, `version` = its updatedAt).
 */
export const outbox = sqliteTable("outbox", {
  // The rowid, without AUTOINCREMENT (which writes sqlite_sequence on every insert): an id may come back
  // after its row was deleted, and a stale message naming it then hands on a newer change early.
  id: integer("id").primaryKey(),
  projectId: text("project_id").notNull(),
  passId: integer("pass_id"),
  templateId: integer("template_id"),
  version: integer("version").notNull(),
  sends: integer("sends").notNull().default(0),
  createdAt: integer("created_at").notNull(),
  sentAt: integer("sent_at"),
});

export type PassRecord = typeof passes.$inferSelect;
export type TemplateRecord = typeof templates.$inferSelect;
