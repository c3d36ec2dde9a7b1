/**
 * @module passes/history
 * A pass's event log, kept in its own Durable Object's SQLite storage: every write (create, update,
 * status, archive) and every holder event (install, uninstall, personalize), oldest first by `seq`.
 * History is per pass and only ever read per pass, so it lives with the pass's writer instead of in
 * the shared D1 database, where it grew without bound and cost three index entries per update.
 *
 * Ordering against D1: the object appends an event *before* it sends the D1 batch that makes the
 * change, and removes it when that batch fails. If the object dies in between, the next load trims
 * write events newer than the stored pass version, so history never shows a change that did not land.
 * Passes whose history still sits in D1's `pass_events` are moved here once, on first load.
 */

export type HistoryKind = "write" | "holder";

export interface HistoryEvent {
  seq: number;
  version: number;
  kind: HistoryKind;
  action: string;
  source: string;
  changes: Record<string, unknown>;
  at: number;
}

export type NewHistoryEvent = Omit<HistoryEvent, "seq">;

interface Row extends Record<string, SqlStorageValue> {
  seq: number;
  version: number;
  kind: string;
  action: string;
  source: string;
  changes: string;
  at: number;
}

export class PassHistory {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(
      `CREATE TABLE IF NOT EXISTS events (
        seq INTEGER PRIMARY KEY, version INTEGER NOT NULL, kind TEXT NOT NULL, action TEXT NOT NULL,
        source TEXT NOT NULL, changes TEXT NOT NULL, at INTEGER NOT NULL)`,
    );
    sql.exec(`CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`);
  }

  append(e: NewHistoryEvent): number {
    const row = this.sql
      .exec<{ seq: number }>(
        "INSERT INTO events (version, kind, action, source, changes, at) VALUES (?, ?, ?, ?, ?, ?) RETURNING seq",
        e.version,
        e.kind,
        e.action,
        e.source,
        JSON.stringify(e.changes),
        e.at,
      )
      .one();
    return row.seq;
  }

  remove(seq: number): void {
    this.sql.exec("DELETE FROM events WHERE seq = ?", seq);
  }

  /** Drops write events past `version`: appended for a D1 batch that never landed. */
  trim(version: number): void {
    this.sql.exec("DELETE FROM events WHERE kind = 'write' AND version > ?", version);
  }

  /** Newest first, before `beforeSeq` when given. */
  list(beforeSeq: number | null, limit: number): HistoryEvent[] {
    const rows =
      beforeSeq === null
        ? this.sql.exec<Row>("SELECT * FROM events ORDER BY seq DESC LIMIT ?", limit).toArray()
        : this.sql.exec<Row>("SELECT * FROM events WHERE seq < ? ORDER BY seq DESC LIMIT ?", beforeSeq, limit).toArray();
    return rows.map((r) => ({ ...r, kind: r.kind as HistoryKind, changes: JSON.parse(r.changes) as Record<string, unknown> }));
  }

  /** Whether this pass's history has been moved here (or started here). */
  get settled(): boolean {
    return this.sql.exec("SELECT 1 FROM meta WHERE key = 'settled'").toArray().length > 0;
  }

  /** Marks history as living here, after copying the pass's old D1 rows (oldest first) when it has any. */
  settle(legacy: readonly NewHistoryEvent[] = []): void {
    for (const e of legacy) this.append(e);
    this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('settled', '1')");
  }
}
