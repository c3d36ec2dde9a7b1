/**
 * Apple Wallet's own state: device registrations of the PassKit web service, the update-tag counter,
 * template images (kept out of the `templates` row every listener request loads), per-template state
 * (when its images last changed, the progress of its last push fan-out) and holders' personalization
 * data (encrypted: it is personal data).
 */
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { templates } from "./passes";

/**
 * One row per (device library, pass type, serial): a device asking to hear about a pass (apple-wallet.md
 * §1.1 endpoint 1). `tag` is the pass's update tag on this device: a value of the `apple_counters` tag
 * counter, assigned whenever the pass (or its template) changes, so the serial list answers "changed
 * since" in commit order. `pushed_tag` is the tag the device was last pushed for: a push is owed while
 * `pushed_tag < tag`. `template_id` lets a template edit page through its passes with devices.
 */
export const appleRegistrations = sqliteTable(
  "apple_registrations",
  {
    deviceLibraryId: text("device_library_id").notNull(),
    passTypeId: text("pass_type_id").notNull(),
    serialNumber: text("serial_number").notNull(),
    pushToken: text("push_token").notNull(),
    passId: integer("pass_id").notNull(),
    templateId: integer("template_id").notNull(),
    projectId: text("project_id").notNull(),
    tag: integer("tag").notNull(),
    pushedTag: integer("pushed_tag").notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.deviceLibraryId, t.passTypeId, t.serialNumber] }),
    index("apple_registrations_pass_idx").on(t.passId, t.updatedAt),
    index("apple_registrations_template_idx").on(t.templateId, t.passId),
  ],
);

/** Named counters; `tag` is the update-tag sequence (never decreases, see apple/tags.ts). */
export const appleCounters = sqliteTable("apple_counters", {
  name: text("name").primaryKey(),
  value: integer("value").notNull(),
});

/** A template's Apple images: PNG bytes as base64, read only when a bundle is built. */
export const appleTemplateImages = sqliteTable(
  "apple_template_images",
  {
    templateId: integer("template_id")
      .notNull()
      .references(() => templates.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    data: text("data").notNull(),
    bytes: integer("bytes").notNull(),
    sha1: text("sha1").notNull(),
    width: integer("width").notNull(),
    height: integer("height").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.templateId, t.name] })],
);

export type AppleFanoutState = "running" | "done" | "failed";

/**
 * Apple's state of one template: `images_changed_at` (any image put or deleted: part of every pass's
 * Last-Modified) and its push fan-out after an edit: `run` counts restarts, `wanted_at` is the edit it
 * shows, `cursor` the last pass id handed on, `done` / `total` the progress the API shows.
 */
export const appleTemplates = sqliteTable("apple_templates", {
  templateId: integer("template_id")
    .primaryKey()
    .references(() => templates.id, { onDelete: "cascade" }),
  projectId: text("project_id").notNull(),
  imagesChangedAt: integer("images_changed_at").notNull().default(0),
  fanoutState: text("fanout_state").$type<AppleFanoutState>(),
  fanoutRun: integer("fanout_run").notNull().default(0),
  fanoutWantedAt: integer("fanout_wanted_at").notNull().default(0),
  fanoutCursor: integer("fanout_cursor").notNull().default(0),
  fanoutDone: integer("fanout_done").notNull().default(0),
  fanoutTotal: integer("fanout_total").notNull().default(0),
  fanoutError: text("fanout_error"),
  fanoutStartedAt: integer("fanout_started_at"),
  fanoutFinishedAt: integer("fanout_finished_at"),
  updatedAt: integer("updated_at").notNull(),
});

/**
 * What a holder entered when signing up for a rewards pass (§1.6): the fields as JSON, AES-GCM under
 * MASTER_KEY bound to the pass (`data_enc`). One row per pass; its presence means "personalized".
 * `token_hash` is the hex SHA-256 of the personalization token that was signed: a repeat re-signs
 * only that token (null on rows stored before it existed: those are never signed again).
 */
export const applePersonalizations = sqliteTable("apple_personalizations", {
  passId: integer("pass_id").primaryKey(),
  projectId: text("project_id").notNull(),
  dataEnc: text("data_enc").notNull(),
  personalizedAt: integer("personalized_at").notNull(),
  tokenHash: text("token_hash"),
});

export type AppleRegistrationRecord = typeof appleRegistrations.$inferSelect;
export type AppleTemplateRecord = typeof appleTemplates.$inferSelect;
export type AppleTemplateImageRecord = typeof appleTemplateImages.$inferSelect;

/**
 * The D1 shards where a pass type has a project (db/shards.ts), kept in the directory (shard 0):
 * Apple's "serials changed since" names a device and a pass type, not a pass, so it asks these
 * shards only. Written when a project saves Apple credentials; never removed (a stale row costs one
 * query that finds nothing).
 */
export const applePassTypeShards = sqliteTable(
  "apple_pass_type_shards",
  {
    passTypeId: text("pass_type_id").notNull(),
    shard: integer("shard").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.passTypeId, t.shard] })],
);
