/** Integrations (listener endpoints) and the inbound event log. */
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

export const inboundEvents = sqliteTable(
  "inbound_events",
  {
    id: text("id").primaryKey(),
    integrationId: text("integration_id")
      .notNull()
      .references(() => integrations.id, { onDelete: "cascade" }),
    receivedAt: integer("received_at").notNull(),
    headers: text("headers", { mode: "json" }).$type<Record<string, string>>().notNull(),
    contentType: text("content_type"),
    /** The raw body; empty for a request refused before processing (signature, size, rate limit). */
    body: text("body").notNull(),
    bodyTruncated: integer("body_truncated", { mode: "boolean" }).notNull(),
    /** Size in bytes and SHA-256 (hex) of the body as received: all that is kept of a refused request's body. */
    bodyBytes: integer("body_bytes"),
    bodySha256: text("body_sha256"),
    idempotencyKey: text("idempotency_key"),
    statusCode: integer("status_code").notNull(),
    response: text("response", { mode: "json" }).$type<unknown>().notNull(),
    errorCode: text("error_code"),
    errorMessage: text("error_message"),
    passId: integer("pass_id"),
    passVersion: integer("pass_version"),
    /** Set on a manual replay: the event whose body was run again. */
    replayOf: text("replay_of"),
    /** Set when a repeated webhook-id / Idempotency-Key got the first response back. */
    duplicateOf: text("duplicate_of"),
  },
  (t) => [
    index("inbound_events_integration_idx").on(t.integrationId, t.receivedAt),
    // Retention deletes by age across integrations.
    index("inbound_events_received_idx").on(t.receivedAt),
  ],
);

export type IntegrationRecord = typeof integrations.$inferSelect;
export type InboundEventRecord = typeof inboundEvents.$inferSelect;
