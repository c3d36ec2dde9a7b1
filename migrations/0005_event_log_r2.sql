PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_inbound_events` (
	`id` integer PRIMARY KEY NOT NULL,
	`integration_id` text NOT NULL,
	`received_at` integer NOT NULL,
	`status_code` integer NOT NULL,
	`error_code` text,
	`pass_id` integer,
	`pass_version` integer,
	`idempotency_key` text,
	`body_bytes` integer,
	`replay_of` integer,
	`duplicate_of` integer,
	`legacy_detail` text,
	FOREIGN KEY (`integration_id`) REFERENCES `integrations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
-- Existing rows get integer ids in the order they were received; each keeps its headers, body and
-- answer in legacy_detail until the cron moves them to R2 (a few at a time). References to old ids
-- (replays, duplicates, listener idempotency records) are mapped to the new ones.
CREATE TABLE `__event_ids` (`old_id` text PRIMARY KEY NOT NULL, `new_id` integer NOT NULL);--> statement-breakpoint
INSERT INTO `__event_ids` (`old_id`, `new_id`) SELECT "id", row_number() OVER (ORDER BY "received_at", "id") FROM `inbound_events`;--> statement-breakpoint
INSERT INTO `__new_inbound_events`("id", "integration_id", "received_at", "status_code", "error_code", "pass_id", "pass_version", "idempotency_key", "body_bytes", "replay_of", "duplicate_of", "legacy_detail")
  SELECT m."new_id", e."integration_id", e."received_at", e."status_code", e."error_code", e."pass_id", e."pass_version", e."idempotency_key",
    coalesce(e."body_bytes", length(cast(e."body" as blob))),
    (SELECT r."new_id" FROM `__event_ids` r WHERE r."old_id" = e."replay_of"),
    (SELECT d."new_id" FROM `__event_ids` d WHERE d."old_id" = e."duplicate_of"),
    json_object('headers', json(e."headers"), 'contentType', e."content_type", 'body', e."body",
      'bodyTruncated', json(CASE WHEN e."body_truncated" THEN 'true' ELSE 'false' END), 'bodySha256', e."body_sha256",
      'response', json(e."response"), 'errorMessage', e."error_message")
  FROM `inbound_events` e JOIN `__event_ids` m ON m."old_id" = e."id";--> statement-breakpoint
UPDATE `idempotency_keys` SET "ref" = (SELECT cast(m."new_id" AS text) FROM `__event_ids` m WHERE m."old_id" = `idempotency_keys`."ref")
  WHERE "scope" LIKE 'listener:%' AND "ref" IS NOT NULL;--> statement-breakpoint
DROP TABLE `__event_ids`;--> statement-breakpoint
DROP TABLE `inbound_events`;--> statement-breakpoint
ALTER TABLE `__new_inbound_events` RENAME TO `inbound_events`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE INDEX `inbound_events_integration_idx` ON `inbound_events` (`integration_id`,`id`);--> statement-breakpoint
CREATE INDEX `inbound_events_legacy_idx` ON `inbound_events` (`id`) WHERE legacy_detail is not null;