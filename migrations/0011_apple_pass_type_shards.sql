CREATE TABLE `apple_pass_type_shards` (
	`pass_type_id` text NOT NULL,
	`shard` integer NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`pass_type_id`, `shard`)
);
--> statement-breakpoint
-- Pass types of credentials saved before this table existed. Every such project was in shard 0 (there
-- were no other shards); in another shard's database the table is never read, so the same statement
-- there is harmless.
INSERT OR IGNORE INTO `apple_pass_type_shards` (`pass_type_id`, `shard`, `created_at`)
  SELECT json_extract(`summary`, '$.passTypeIdentifier'), 0, `updated_at` FROM `wallet_credentials`
  WHERE `wallet` = 'apple' AND json_extract(`summary`, '$.passTypeIdentifier') IS NOT NULL;
