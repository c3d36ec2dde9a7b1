PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_outbox` (
	`id` integer PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`pass_id` integer,
	`template_id` integer,
	`version` integer NOT NULL,
	`sends` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`sent_at` integer
);
--> statement-breakpoint
-- Pending tasks move over with new integer ids (done ones are dropped: the consumer now deletes the
-- rows it hands on). Their queue messages named the old text ids and are dropped as unknown; the cron
-- sweep re-sends the moved rows, which are overdue.
INSERT INTO `__new_outbox`("project_id", "pass_id", "template_id", "version", "sends", "created_at", "sent_at")
  SELECT p."project_id", o."pass_id", p."template_id", o."version", o."sends", o."created_at", NULL
  FROM `outbox` o JOIN `passes` p ON p."id" = o."pass_id" WHERE o."state" = 'pending' ORDER BY o."created_at";--> statement-breakpoint
DROP TABLE `outbox`;--> statement-breakpoint
ALTER TABLE `__new_outbox` RENAME TO `outbox`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
ALTER TABLE `idempotency_keys` ADD `sealed` integer DEFAULT 1 NOT NULL;