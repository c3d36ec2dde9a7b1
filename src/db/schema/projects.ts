/** Projects, their API keys (secret stored as SHA-256), and idempotency records of admin writes. */
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const projects = sqliteTable(
  "projects",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    externalId: text("external_id"),
    /**
     * The D1 shard holding the project's data (db/shards.ts). The directory (shard 0) has every
     * project's row; a project's own shard has a copy without externalId, which its rows reference.
     */
    shard: integer("shard").notNull().default(0),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [uniqueIndex("projects_external_id_uq").on(t.externalId), index("projects_shard_idx").on(t.shard)],
);

export const apiKeys = sqliteTable(
  "api_keys",
  {
    key: text("key").primaryKey(),
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    secretHash: text("secret_hash").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("api_keys_project_idx").on(t.projectId)],
);

/**
 * Idempotency records of admin writes (scope: project id or `operator`) and listener requests (scope:
 * `listener:<integrationId>`): the first response, replayed for 24 hours.
 */
export const idempotencyKeys = sqliteTable(
  "idempotency_keys",
  {
    scope: text("scope").notNull(),
    key: text("key").notNull(),
    fingerprint: text("fingerprint").notNull(),
    state: text("state", { enum: ["processing", "done"] }).notNull(),
    responseStatus: integer("response_status"),
    responseBody: text("response_body"),
    /** Whether response_body is encrypted (admin responses can carry a secret shown once) or plain JSON (listener answers). */
    sealed: integer("sealed", { mode: "boolean" }).notNull().default(true),
    /** What the first request recorded beside its response: the listener's first event id. */
    ref: text("ref"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.scope, t.key] }), index("idempotency_created_idx").on(t.createdAt)],
);
