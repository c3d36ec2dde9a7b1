PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_outbox` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`pass_id` integer NOT NULL,
	`version` integer NOT NULL,
	`sends` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`sent_at` integer
);
--> statement-breakpoint
-- Pending tasks move over with new integer ids (done ones are dropped: the consumer now deletes rows
-- it took). Their queue messages named the old text ids and are dropped as unknown; the cron sweep
-- re-sends the moved rows, which are overdue.
INSERT INTO `__new_outbox`("pass_id", "version", "sends", "created_at", "sent_at") SELECT "pass_id", "version", "sends", "created_at", NULL FROM `outbox` WHERE "state" = 'pending' ORDER BY "created_at";--> statement-breakpoint
DROP TABLE `outbox`;--> statement-breakpoint
ALTER TABLE `__new_outbox` RENAME TO `outbox`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
ALTER TABLE `idempotency_keys` ADD `sealed` integer DEFAULT 1 NOT NULL;