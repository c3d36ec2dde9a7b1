/** Integrations (listener endpoints) and the inbound event log. */
import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { projects } from "./projects";
import { templates } from "./passes";

export type IntegrationAction = "create" | "update" | "archive" | "expire" | "void" | "redeem";

export const integrations = sqliteTable(
  "integrations",
  {
    id: text("id").primaryKey(),
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    templateId: integer("template_id")
      .notNull()
      .references(() => templates.id),
    name: text("name").notNull(),
    action: text("action").$type<IntegrationAction>().notNull(),
    fieldMapping: text("field_mapping", { mode: "json" }).$type<Record<string, string | null>>().notNull(),
    signingSecretEnc: text("signing_secret_enc"),
    tokenHash: text("token_hash").notNull(),
    tokenHint: text("token_hint").notNull(),
    enabled: integer("enabled", { mode: "boolean" }).notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [uniqueIndex("integrations_token_uq").on(t.tokenHash), index("integrations_project_idx").on(t.projectId)],
);

/**
 * The inbound event log's D1 part: one compact row per listener request, written in the same batch
 * as the pass change it caused (or alone), so the log and the write agree. What is large or only read
 * by people (headers, body, answer) is kept beside it in R2 (`EVENT_LOG`, key
 * `events/<integrationId>/<id>`), written after the answer. The id is the rowid: ids grow with time,
 * so pages and retention go by it, and no separate key index is written. Shown as `evt_<base36>`.
 */
export const inboundEvents = sqliteTable(
  "inbound_events",
  {
    id: integer("id").primaryKey(),
    integrationId: text("integration_id")
      .notNull()
      .references(() => integrations.id, { onDelete: "cascade" }),
    receivedAt: integer("received_at").notNull(),
    statusCode: integer("status_code").notNull(),
    errorCode: text("error_code"),
    passId: integer("pass_id"),
    passVersion: integer("pass_version"),
    idempotencyKey: text("idempotency_key"),
    bodyBytes: integer("body_bytes"),
    /** Set on a manual replay: the event whose body was run again. */
    replayOf: integer("replay_of"),
    /** Set when a repeated key got the first answer back. */
    duplicateOf: integer("duplicate_of"),
    /**
     * Headers, body and answer of a row written before the details moved to R2; the cron moves them
     * there in small batches and clears this.
     */
    legacyDetail: text("legacy_detail", { mode: "json" }).$type<Record<string, unknown>>(),
  },
  (t) => [
    index("inbound_events_integration_idx").on(t.integrationId, t.id),
    // Partial: only rows still holding legacy details are in it, so new rows write nothing here.
    index("inbound_events_legacy_idx").on(t.id).where(sql`legacy_detail is not null`),
  ],
);

export type IntegrationRecord = typeof integrations.$inferSelect;
export type InboundEventRecord = typeof inboundEvents.$inferSelect;
