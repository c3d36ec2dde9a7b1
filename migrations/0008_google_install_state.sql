DROP INDEX `google_objects_unsaved_idx`;--> statement-breakpoint
ALTER TABLE `google_objects` ADD `uninstalled_at` integer;--> statement-breakpoint
CREATE INDEX `google_objects_probe_idx` ON `google_objects` (`link_issued_at`) WHERE link_issued_at is not null and installed_at is null and uninstalled_at is null;--> statement-breakpoint
-- installed_at now means "saved right now". A pass whose latest callback (nonces are kept 7 days) was
-- a delete is not installed.
UPDATE `google_objects` SET `installed_at` = NULL, `reconciled_install` = 0,
  `uninstalled_at` = (SELECT max(`received_at`) FROM `google_callback_nonces` n WHERE n.`pass_id` = `google_objects`.`pass_id` AND n.`event_type` = 'del')
WHERE (SELECT `event_type` FROM `google_callback_nonces` n WHERE n.`pass_id` = `google_objects`.`pass_id` ORDER BY `received_at` DESC LIMIT 1) = 'del';
