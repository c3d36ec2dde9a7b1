ALTER TABLE `wallet_jobs` ADD `next_attempt_at` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `wallet_jobs_due_idx` ON `wallet_jobs` (`state`,`next_attempt_at`);--> statement-breakpoint
-- Jobs already queued are due as of their last touch, as the sweep judged them before.
UPDATE `wallet_jobs` SET `next_attempt_at` = `updated_at`;
