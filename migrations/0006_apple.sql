CREATE TABLE `apple_counters` (
	`name` text PRIMARY KEY NOT NULL,
	`value` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `apple_personalizations` (
	`pass_id` integer PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`data_enc` text NOT NULL,
	`personalized_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `apple_registrations` (
	`device_library_id` text NOT NULL,
	`pass_type_id` text NOT NULL,
	`serial_number` text NOT NULL,
	`push_token` text NOT NULL,
	`pass_id` integer NOT NULL,
	`template_id` integer NOT NULL,
	`project_id` text NOT NULL,
	`tag` integer NOT NULL,
	`pushed_tag` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`device_library_id`, `pass_type_id`, `serial_number`)
);
--> statement-breakpoint
CREATE INDEX `apple_registrations_pass_idx` ON `apple_registrations` (`pass_id`,`updated_at`);--> statement-breakpoint
CREATE INDEX `apple_registrations_template_idx` ON `apple_registrations` (`template_id`,`pass_id`);--> statement-breakpoint
CREATE TABLE `apple_template_images` (
	`template_id` integer NOT NULL,
	`name` text NOT NULL,
	`data` text NOT NULL,
	`bytes` integer NOT NULL,
	`sha1` text NOT NULL,
	`width` integer NOT NULL,
	`height` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`template_id`, `name`),
	FOREIGN KEY (`template_id`) REFERENCES `templates`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `apple_templates` (
	`template_id` integer PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`images_changed_at` integer DEFAULT 0 NOT NULL,
	`fanout_state` text,
	`fanout_run` integer DEFAULT 0 NOT NULL,
	`fanout_wanted_at` integer DEFAULT 0 NOT NULL,
	`fanout_cursor` integer DEFAULT 0 NOT NULL,
	`fanout_done` integer DEFAULT 0 NOT NULL,
	`fanout_total` integer DEFAULT 0 NOT NULL,
	`fanout_error` text,
	`fanout_started_at` integer,
	`fanout_finished_at` integer,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`template_id`) REFERENCES `templates`(`id`) ON UPDATE no action ON DELETE cascade
);
