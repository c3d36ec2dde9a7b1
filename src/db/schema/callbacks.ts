/** The project's callback server registration, deliveries (one per event) and their attempts. */
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { projects } from "./projects";

export const callbackSettings = sqliteTable("callback_settings", {
  projectId: text("project_id")
    .primaryKey()
    .references(() => projects.id, { onDelete: "cascade" }),
  baseUrl: text("base_url").notNull(),
  headersEnc: text("headers_enc").notNull(),
  secretEnc: text("secret_enc").notNull(),
  previousSecretEnc: text("previous_secret_enc"),
  previousSecretExpiresAt: integer("previous_secret_expires_at"),
  disabledAt: integer("disabled_at"),
  disabledReason: text("disabled_reason"),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

export type DeliveryEvent = "install" | "uninstall" | "personalize";
/**
 * waiting: created, behind an earlier delivery of the same pass · pending: handed to the queue ·
 * succeeded · failed (for good; parked in the dead-letter queue).
 */
export type DeliveryStatus = "waiting" | "pending" | "succeeded" | "failed";

export const deliveries = sqliteTable(
  "deliveries",
  {
    id: text("id").primaryKey(),
    projectId: text("project_id").notNull(),
    passId: integer("pass_id").notNull(),
    event: text("event").$type<DeliveryEvent>().notNull(),
    /** The event as it happened: pass snapshot, platform, personalization. */
    payload: text("payload", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    status: text("status").$type<DeliveryStatus>().notNull(),
    isTest: integer("is_test", { mode: "boolean" }).notNull(),
    /** Attempts made in all. */
    attemptCount: integer("attempt_count").notNull(),
    /** Attempts made since the last (re)start of the retry schedule. */
    tries: integer("tries").notNull(),
    nextAttemptAt: integer("next_attempt_at"),
    lastStatusCode: integer("last_status_code"),
    lastError: text("last_error"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    completedAt: integer("completed_at"),
    /** When the dead-letter queue's consumer took the parked task. */
    deadLetteredAt: integer("dead_lettered_at"),
  },
  (t) => [
    index("deliveries_project_idx").on(t.projectId, t.createdAt),
    index("deliveries_pass_idx").on(t.passId, t.status, t.createdAt),
    index("deliveries_status_idx").on(t.status, t.nextAttemptAt),
    // Retention deletes settled deliveries by completion time.
    index("deliveries_completed_idx").on(t.completedAt),
  ],
);

export const deliveryAttempts = sqliteTable(
  "delivery_attempts",
  {
    id: text("id").primaryKey(),
    deliveryId: text("delivery_id")
      .notNull()
      .references(() => deliveries.id, { onDelete: "cascade" }),
    attempt: integer("attempt").notNull(),
    at: integer("at").notNull(),
    statusCode: integer("status_code"),
    durationMs: integer("duration_ms").notNull(),
    responseSnippet: text("response_snippet"),
    error: text("error"),
  },
  // Unique: two consumers racing on one delivery cannot both record the same attempt.
  (t) => [uniqueIndex("delivery_attempts_delivery_uq").on(t.deliveryId, t.attempt)],
);

export type DeliveryRecord = typeof deliveries.$inferSelect;
export type CallbackSettingsRecord = typeof callbackSettings.$inferSelect;
