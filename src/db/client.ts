/**
 * The drizzle client over D1. Built once per D1 binding object and reused: building one with a schema
 * walks every table's relational config (`extractTablesRelationalConfig`), which the bench's profile
 * showed as the largest single cost in the isolate on the listener's hot path. passhook never uses
 * drizzle's relational queries (`db.query.*`), so the client is built without the schema at all.
 */
import { drizzle, type DrizzleD1Database } from "drizzle-orm/d1";

export type Db = DrizzleD1Database;

const clients = new WeakMap<D1Database, Db>();

export function getDb(d1: D1Database): Db {
  let db = clients.get(d1);
  if (!db) {
    db = drizzle(d1);
    clients.set(d1, db);
  }
  return db;
}
