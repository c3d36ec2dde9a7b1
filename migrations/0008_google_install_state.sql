DROP INDEX `google_objects_unsaved_idx`;--> statement-breakpoint
ALTER TABLE `google_objects` ADD `uninstalled_at` integer;--> statement-breakpoint
-- installed_at now means "saved right now". A pass whose latest callback (nonces are kept 7 days) was
-- a delete is not installed. One pass over the nonces (grouped), joined to objects by their key:
-- linear in the tables' sizes (a correlated subquery per object would scan the nonces each time).
UPDATE `google_objects` SET `installed_at` = NULL, `reconciled_install` = 0, `uninstalled_at` = d.`last_del`
FROM (
  SELECT `pass_id`, max(CASE WHEN `event_type` = 'del' THEN `received_at` END) AS `last_del`, max(`received_at`) AS `last_at`
  FROM `google_callback_nonces` GROUP BY `pass_id`
) AS d
WHERE d.`pass_id` = `google_objects`.`pass_id` AND d.`last_del` = d.`last_at`;--> statement-breakpoint
CREATE INDEX `google_objects_probe_idx` ON `google_objects` (`link_issued_at`) WHERE link_issued_at is not null and installed_at is null and uninstalled_at is null;
