CREATE TABLE `api_keys` (
	`key` text PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`secret_hash` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `api_keys_project_idx` ON `api_keys` (`project_id`);--> statement-breakpoint
CREATE TABLE `idempotency_keys` (
	`scope` text NOT NULL,
	`key` text NOT NULL,
	`fingerprint` text NOT NULL,
	`state` text NOT NULL,
	`response_status` integer,
	`response_body` text,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`scope`, `key`)
);
--> statement-breakpoint
CREATE INDEX `idempotency_created_idx` ON `idempotency_keys` (`created_at`);--> statement-breakpoint
CREATE TABLE `projects` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`external_id` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `projects_external_id_uq` ON `projects` (`external_id`);--> statement-breakpoint
CREATE TABLE `outbox` (
	`id` text PRIMARY KEY NOT NULL,
	`pass_id` integer NOT NULL,
	`topic` text NOT NULL,
	`version` integer NOT NULL,
	`state` text NOT NULL,
	`sends` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`sent_at` integer,
	`done_at` integer
);
--> statement-breakpoint
CREATE INDEX `outbox_state_idx` ON `outbox` (`state`,`sent_at`);--> statement-breakpoint
CREATE TABLE `pass_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`pass_id` integer NOT NULL,
	`version` integer NOT NULL,
	`kind` text NOT NULL,
	`action` text NOT NULL,
	`source` text NOT NULL,
	`changes` text NOT NULL,
	`at` integer NOT NULL,
	FOREIGN KEY (`pass_id`) REFERENCES `passes`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `pass_events_write_version_uq` ON `pass_events` (`pass_id`,`version`) WHERE kind = 'write';--> statement-breakpoint
CREATE INDEX `pass_events_pass_idx` ON `pass_events` (`pass_id`,`id`);--> statement-breakpoint
CREATE TABLE `passes` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`project_id` text NOT NULL,
	`template_id` integer NOT NULL,
	`external_id` text NOT NULL,
	`serial_number` text NOT NULL,
	`authentication_token` text NOT NULL,
	`status` text NOT NULL,
	`fields` text NOT NULL,
	`version` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`archived_at` integer,
	FOREIGN KEY (`template_id`) REFERENCES `templates`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `passes_template_external_uq` ON `passes` (`template_id`,`external_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `passes_serial_uq` ON `passes` (`serial_number`);--> statement-breakpoint
CREATE TABLE `templates` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`project_id` text NOT NULL,
	`name` text NOT NULL,
	`pass_type` text NOT NULL,
	`fields` text NOT NULL,
	`apple` text,
	`google` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `templates_project_idx` ON `templates` (`project_id`,`id`);--> statement-breakpoint
CREATE TABLE `inbound_events` (
	`id` text PRIMARY KEY NOT NULL,
	`integration_id` text NOT NULL,
	`received_at` integer NOT NULL,
	`headers` text NOT NULL,
	`content_type` text,
	`body` text NOT NULL,
	`body_truncated` integer NOT NULL,
	`idempotency_key` text,
	`status_code` integer NOT NULL,
	`response` text NOT NULL,
	`error_code` text,
	`error_message` text,
	`pass_id` integer,
	`pass_version` integer,
	`replay_of` text,
	`duplicate_of` text,
	FOREIGN KEY (`integration_id`) REFERENCES `integrations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `inbound_events_integration_idx` ON `inbound_events` (`integration_id`,`received_at`);--> statement-breakpoint
CREATE INDEX `inbound_events_idem_idx` ON `inbound_events` (`integration_id`,`idempotency_key`);--> statement-breakpoint
CREATE TABLE `integrations` (
	`id` text PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`template_id` integer NOT NULL,
	`name` text NOT NULL,
	`action` text NOT NULL,
	`field_mapping` text NOT NULL,
	`signing_secret_enc` text,
	`token_hash` text NOT NULL,
	`token_hint` text NOT NULL,
	`enabled` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`template_id`) REFERENCES `templates`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `integrations_token_uq` ON `integrations` (`token_hash`);--> statement-breakpoint
CREATE INDEX `integrations_project_idx` ON `integrations` (`project_id`);--> statement-breakpoint
CREATE TABLE `callback_settings` (
	`project_id` text PRIMARY KEY NOT NULL,
	`base_url` text NOT NULL,
	`headers_enc` text NOT NULL,
	`secret_enc` text NOT NULL,
	`previous_secret_enc` text,
	`previous_secret_expires_at` integer,
	`disabled_at` integer,
	`disabled_reason` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `deliveries` (
	`id` text PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`pass_id` integer NOT NULL,
	`event` text NOT NULL,
	`payload` text NOT NULL,
	`status` text NOT NULL,
	`is_test` integer NOT NULL,
	`attempt_count` integer NOT NULL,
	`tries` integer NOT NULL,
	`next_attempt_at` integer,
	`last_status_code` integer,
	`last_error` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`completed_at` integer,
	`dead_lettered_at` integer
);
--> statement-breakpoint
CREATE INDEX `deliveries_project_idx` ON `deliveries` (`project_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `deliveries_pass_idx` ON `deliveries` (`pass_id`,`status`,`created_at`);--> statement-breakpoint
CREATE INDEX `deliveries_status_idx` ON `deliveries` (`status`,`next_attempt_at`);--> statement-breakpoint
CREATE TABLE `delivery_attempts` (
	`id` text PRIMARY KEY NOT NULL,
	`delivery_id` text NOT NULL,
	`attempt` integer NOT NULL,
	`at` integer NOT NULL,
	`status_code` integer,
	`duration_ms` integer NOT NULL,
	`response_snippet` text,
	`error` text,
	FOREIGN KEY (`delivery_id`) REFERENCES `deliveries`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `delivery_attempts_delivery_uq` ON `delivery_attempts` (`delivery_id`,`attempt`);