CREATE TABLE `apple_pass_type_shards` (
	`pass_type_id` text NOT NULL,
	`shard` integer NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`pass_type_id`, `shard`)
);
