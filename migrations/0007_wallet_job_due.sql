ALTER TABLE `wallet_jobs` ADD `next_attempt_at` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
-- Jobs still pending are due as of their last touch, as the sweep judged them before (only pending
-- jobs are swept). The index comes after the backfill, so the update does not maintain it row by row.
UPDATE `wallet_jobs` SET `next_attempt_at` = `updated_at` WHERE `state` = 'pending';--> statement-breakpoint
CREATE INDEX `wallet_jobs_due_idx` ON `wallet_jobs` (`state`,`next_attempt_at`);
