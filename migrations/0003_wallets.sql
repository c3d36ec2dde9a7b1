CREATE TABLE `wallet_credentials` (
	`project_id` text NOT NULL,
	`wallet` text NOT NULL,
	`version` integer NOT NULL,
	`secret_enc` text NOT NULL,
	`summary` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`project_id`, `wallet`),
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `wallet_jobs` (
	`wallet` text NOT NULL,
	`subject` text NOT NULL,
	`project_id` text NOT NULL,
	`wanted_at` integer NOT NULL,
	`done_at` integer DEFAULT 0 NOT NULL,
	`state` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_error` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`wallet`, `subject`)
);
--> statement-breakpoint
CREATE INDEX `wallet_jobs_state_idx` ON `wallet_jobs` (`state`,`updated_at`);