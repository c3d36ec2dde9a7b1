DROP INDEX `inbound_events_idem_idx`;--> statement-breakpoint
ALTER TABLE `inbound_events` ADD `body_bytes` integer;--> statement-breakpoint
ALTER TABLE `inbound_events` ADD `body_sha256` text;--> statement-breakpoint
CREATE INDEX `inbound_events_received_idx` ON `inbound_events` (`received_at`);--> statement-breakpoint
ALTER TABLE `idempotency_keys` ADD `ref` text;--> statement-breakpoint
CREATE INDEX `deliveries_completed_idx` ON `deliveries` (`completed_at`);