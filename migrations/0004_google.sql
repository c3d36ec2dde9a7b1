CREATE TABLE `google_callback_nonces` (
	`nonce` text PRIMARY KEY NOT NULL,
	`pass_id` integer NOT NULL,
	`event_type` text NOT NULL,
	`received_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `google_callback_nonces_received_idx` ON `google_callback_nonces` (`received_at`);--> statement-breakpoint
CREATE TABLE `google_classes` (
	`template_id` integer PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`inserted_at` integer,
	`pushed_at` integer DEFAULT 0 NOT NULL,
	`fanout_at` integer DEFAULT 0 NOT NULL,
	`fanout_after` integer DEFAULT 0 NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`template_id`) REFERENCES `templates`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `google_objects` (
	`pass_id` integer PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`template_id` integer NOT NULL,
	`inserted_at` integer,
	`pushed_version` integer,
	`pushed_fields` text,
	`notify_sent_at` text DEFAULT '[]' NOT NULL,
	`link_issued_at` integer,
	`installed_at` integer,
	`reconciled_install` integer DEFAULT false NOT NULL,
	`checked_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`pass_id`) REFERENCES `passes`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `google_objects_template_idx` ON `google_objects` (`template_id`,`pass_id`) WHERE inserted_at is not null;--> statement-breakpoint
CREATE INDEX `google_objects_unsaved_idx` ON `google_objects` (`checked_at`) WHERE link_issued_at is not null and installed_at is null;