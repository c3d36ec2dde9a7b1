/**
 * @module passes/pass-object
 * One Durable Object per pass (named `templateId:externalId`): the single write path. Every write and
 * every holder event for the pass runs here, one at a time, in arrival order.
 *
 * Why an explicit chain: the input gate only holds while the object awaits its *own* storage; D1
 * queries and queue sends open it, so two calls would otherwise interleave. `serially` runs each call
 * after the previous one settled.
 *
 * The object is the pass row's only writer, so it keeps the row in memory after the first read: a
 * warm write costs one D1 batch (the pass row, its outbox row, and the listener's receipt when there is
 * one). The pass's history lives in this object's own SQLite storage (passes/history.ts).
 *
 * What happens "after a pass changed" is not this object's business: it writes an outbox row in the
 * same D1 batch as the change and hands an id-only task to the pushes queue after answering; callbacks
 * get a delivery row, sequenced here so one pass's callbacks reach the server in event order.
 */
import { DurableObject } from "cloudflare:workers";
import { getDb, type Db } from "../db/client";
import { claimNextDelivery, requeueDeliveries, writeHolderEvent } from "../db/queries/deliveries";
import { deleteLegacyPassEvents, findPassByTarget, legacyPassEvents, passIdIn, writePassChange } from "../db/queries/passes";
import { integrationExists } from "../db/queries/integrations";
import { receiptStatements, writeReceipts } from "../db/queries/receipts";
import type { PassRecord } from "../db/schema";
import { prefixShard, shardField, withShard } from "../db/shards";
import { newId, newToken } from "../lib/ids";
import { isConstraintError, logError } from "../lib/log";
import { PassHistory, type HistoryEvent } from "./history";
import { INTERNAL, LISTENER_GONE, MAX_GROUP, snapshot, type DeliveryTask, type EmitOutcome, type HolderEventInput, type PendingWrite, type PushTask, type WriteOutcome } from "./pass-messages";
import { planWrite, type PassCommand, type PassTarget, type Plan } from "./plan-write";
import { errorAnswer, successAnswer, type Receipt, type ReceiptAnswer } from "./receipt";

export type { DeliveryTask, EmitOutcome, HolderEventInput, PushTask, WriteOutcome };

export class PassObject extends DurableObject<Env> {
  private chain: Promise<unknown> = Promise.resolve();
  private pending: PendingWrite[] = [];
  /** The pass row as last written by this object (undefined: not loaded). This object is its only writer. */
  private cached: PassRecord | null | undefined = undefined;
  private readonly log: PassHistory;
  /** The D1 shard this pass is in: every call names it (it is part of the object's name too). */
  private shard = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.log = new PassHistory(ctx.storage.sql);
  }

  /**
   * Runs `fn` after every earlier call settled. An unexpected failure is logged here without request
   * data and replaced by a plain error, because the runtime reports whatever escapes an RPC method.
   */
  private serially<T>(fn: () => Promise<T>): Promise<T> {
    const guarded = async () => {
      try {
        return await fn();
      } catch (e) {
        logError("pass object call failed", e);
        throw new Error("pass object call failed");
      }
    };
    const run = this.chain.then(guarded, guarded);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** The env whose `DB` is this pass's shard. */
  private shardEnv(): Env {
    return withShard(this.env, this.shard);
  }

  private db(): Db {
    return getDb(this.shardEnv().DB);
  }

  private enter(shard: number | undefined): void {
    if (shard) this.shard = shard;
  }

  /** The pass row, read from D1 once; on that first read, history is made consistent with it. */
  private async load(target: PassTarget): Promise<PassRecord | null> {
    if (this.cached !== undefined) return this.cached;
    const pass = await findPassByTarget(this.db(), target.templateId, target.externalId);
    if (pass) {
      if (!this.log.settled) await this.moveLegacyHistory(pass.id);
      this.log.trim(pass.version);
    } else {
      this.log.trim(0);
    }
    this.cached = pass;
    return pass;
  }

  /** Copies a pass's rows from D1's retired `pass_events` into this object's storage, once. */
  private async moveLegacyHistory(passId: number): Promise<void> {
    const db = this.db();
    const rows = await legacyPassEvents(db, passId);
    this.log.settle(rows.map(({ version, kind, action, source, changes, at }) => ({ version, kind, action, source, changes, at })));
    if (rows.length) await deleteLegacyPassEvents(db, passId);
  }

  /**
   * Applies one write (create, update, status, archive) and returns the pass after it. With a
   * `receipt` (a listener request), the request's inbound event and idempotency answer are written in
   * the same D1 batch as the change, or alone when nothing changed.
   *
   * Writes that arrive while an earlier batch is in flight are committed together (group commit): each
   * is planned in order against the state the previous one left, so every caller still gets its own
   * version and its own answer, and the group costs one D1 batch with the final pass row, one outbox
   * row and each request's receipt. A busy pass therefore pays one round trip per group, not per write.
   */
  async apply(target: PassTarget, cmd: PassCommand, source: string, receipt?: Receipt): Promise<WriteOutcome> {
    this.enter(target.shard);
    return new Promise<WriteOutcome>((resolve) => {
      this.pending.push({ target, cmd, source, receipt, resolve });
      if (this.pending.length === 1) this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    this.serially(() => this.flush()).catch(() => undefined);
  }

  /** Commits the waiting writes (up to MAX_GROUP) as one group. Always answers every write it took. */
  private async flush(): Promise<void> {
    const group = this.pending.splice(0, MAX_GROUP);
    if (this.pending.length) this.scheduleFlush();
    if (!group.length) return;
    try {
      await this.commit(group);
    } catch (e) {
      logError("pass write failed; nothing was written", e, { templateId: group[0].target.templateId });
      this.cached = undefined;
      for (const w of group) w.resolve({ ok: false, error: INTERNAL });
    }
  }

  private async commit(group: PendingWrite[]): Promise<void> {
    const now = Date.now();
    const { target } = group[0];
    let state = await this.load(target);
    let insert = false;
    const planned: { w: PendingWrite; plan: Plan; pass: PassRecord | null }[] = [];
    for (const w of group) {
      const plan = planWrite(state, target, w.cmd, now, { serialNumber: prefixShard(this.shardEnv(), ".", crypto.randomUUID()), authenticationToken: newToken(24) });
      if (plan.kind === "write") {
        state = plan.pass;
        insert ||= plan.insert;
      }
      planned.push({ w, plan, pass: plan.kind === "error" ? null : plan.pass });
    }
    const answerOf = (p: (typeof planned)[number], created: boolean) =>
      p.plan.kind === "error" ? errorAnswer(p.plan.error) : successAnswer(p.w.receipt!, p.pass!, created);
    const createdBy = (p: (typeof planned)[number]) => p.plan.kind === "write" && p.plan.insert;

    if (!planned.some((p) => p.plan.kind === "write")) {
      // Nothing changed: the receipts alone, in one batch.
      const receipted = planned.filter((p) => p.w.receipt);
      const ids = await this.receiptsAlone(receipted.map((p) => ({ receipt: p.w.receipt!, answer: answerOf(p, false) })));
      for (const p of planned) {
        const i = receipted.indexOf(p);
        const l = i >= 0 && ids ? { ...answerOf(p, false), eventId: ids[i] } : undefined;
        p.w.resolve(p.plan.kind === "error" ? { ok: false, error: p.plan.error, logged: l } : { ok: true, pass: p.pass!, changed: false, created: false, logged: l });
      }
      return;
    }

    // History first: kept durable before the batch goes out, removed if the batch fails.
    const seqs = planned
      .filter((p) => p.plan.kind === "write")
      .map(({ w, plan }) => {
        const write = plan as Extract<Plan, { kind: "write" }>;
        return this.log.append({ version: write.pass.version, kind: "write", action: write.action, source: w.source, changes: write.changes, at: now });
      });
    const final = { pass: state!, insert, now };
    const db = this.db();
    // For a pass created in this group the id is not known yet: its receipts take it from the batch.
    const ref = insert ? (passIdIn(final) as never) : undefined;
    // Each receipt adds its event insert (whose result is the event id) and maybe its key's answer.
    const eventAt = new Map<PendingWrite, number>();
    const extra = planned
      .filter((p) => p.w.receipt)
      .flatMap((p, _i, all) => {
        const stmts = [...receiptStatements(db, p.w.receipt!, answerOf(p, createdBy(p)), p.pass && p.pass.id === 0 ? ref : undefined)];
        eventAt.set(p.w, all.slice(0, all.indexOf(p)).reduce((n, q) => n + (q.w.receipt!.claimed ? 2 : 1), 0));
        return stmts;
      });
    let stored: PassRecord;
    let outboxId: number;
    let results: unknown[];
    try {
      ({ pass: stored, outboxId, extraResults: results } = await writePassChange(db, final, extra));
    } catch (e) {
      for (const seq of seqs) this.log.remove(seq);
      this.cached = undefined; // the batch rolled back; reload next time
      if (group.length > 1 && isConstraintError(e)) {
        // One write must not sink the others (a receipt naming an integration deleted a moment ago
        // breaks its foreign key, for one): each goes again on its own, planned afresh. Only for a
        // constraint: an overloaded or unreachable D1 would get 32 more batches, and a batch whose
        // answer was lost may have landed (planned again, its writes would apply twice).
        logError("pass group write failed; retrying its writes one by one", e, { templateId: target.templateId, writes: group.length });
        for (const w of group) await this.commitAlone(w);
        return;
      }
      // Answered as outcomes, not thrown: an exception escaping an RPC method is reported by the
      // runtime with its stack and message, which can quote the data that failed to write. Refusals
      // keep their own answer (their receipt went down with the batch: the caller logs it).
      logError("pass write failed; nothing was written", e, { templateId: target.templateId });
      const error = (await this.listenerGone(group[0])) ? LISTENER_GONE : INTERNAL;
      for (const p of planned) p.w.resolve(p.plan.kind === "error" ? { ok: false, error: p.plan.error } : { ok: false, error });
      return;
    }
    this.cached = stored;
    // The push task goes out after the answers: the outbox row is already committed, and the cron
    // sweep sends it again if this send is lost.
    this.ctx.waitUntil(this.handOff(() => this.env.PUSHES_QUEUE.send({ outboxId, ...shardField(this.shardEnv()) } satisfies PushTask), "pushes"));
    const eventIdOf = (w: PendingWrite) => (results[eventAt.get(w)!] as { id: number }[])[0].id;
    for (const p of planned) {
      if (p.plan.kind === "error") {
        // A create refused because an earlier write of this group creates the pass names it by the id
        // the batch just gave it.
        const details = p.plan.error.details as { passId?: number } | null;
        const error = details?.passId === 0 ? { ...p.plan.error, details: { ...details, passId: stored.id } } : p.plan.error;
        p.w.resolve({ ok: false, error, logged: p.w.receipt ? { ...answerOf(p, false), eventId: eventIdOf(p.w) } : undefined });
        continue;
      }
      const pass = { ...p.pass!, id: stored.id };
      const created = createdBy(p);
      const logged = p.w.receipt ? { ...successAnswer(p.w.receipt, pass, created), eventId: eventIdOf(p.w) } : undefined;
      p.w.resolve({ ok: true, pass, changed: p.plan.kind === "write", created, logged });
    }
  }

  private async commitAlone(w: PendingWrite): Promise<void> {
    try {
      await this.commit([w]);
    } catch (e) {
      logError("pass write failed; nothing was written", e, { templateId: w.target.templateId });
      this.cached = undefined;
      w.resolve({ ok: false, error: INTERNAL });
    }
  }

  /** Whether a write's listener integration was deleted after the request found it (a cache window). */
  private async listenerGone(w: PendingWrite): Promise<boolean> {
    if (!w.receipt) return false;
    try {
      return !(await integrationExists(this.db(), w.receipt.integrationId));
    } catch {
      return false;
    }
  }

  /**
   * Receipts of requests that changed nothing, in one batch. Returns their event ids, or null when the
   * batch failed (logged, not fatal: the caller writes the receipts itself).
   */
  private async receiptsAlone(items: { receipt: Receipt; answer: ReceiptAnswer }[]): Promise<number[] | null> {
    if (!items.length) return null;
    try {
      return await writeReceipts(this.db(), items.map((i) => ({ row: i.receipt, answer: i.answer })));
    } catch (e) {
      logError("listener receipt write failed", e, { integration: items[0].receipt.integrationId });
      return null;
    }
  }

  /** The pass's history, newest first. */
  async history(target: PassTarget, beforeSeq: number | null, limit: number): Promise<HistoryEvent[]> {
    this.enter(target.shard);
    return this.serially(async () => {
      await this.load(target);
      return this.log.list(beforeSeq, limit);
    });
  }

  /** Records an install / uninstall / personalize and queues its callback delivery. */
  async emit(target: PassTarget, input: HolderEventInput): Promise<EmitOutcome> {
    this.enter(target.shard);
    return this.serially(async () => {
      const now = Date.now();
      const pass = await this.load(target);
      if (!pass) return { ok: false, error: { code: "not_found", message: "Pass not found.", details: null } };
      const details: Record<string, unknown> = { platform: input.platform };
      if (input.personalization) details.personalization = input.personalization;
      // Test sends are not holder events and leave the history alone.
      const seq = input.test ? null : this.log.append({ version: pass.version, kind: "holder", action: input.event, source: input.source, changes: details, at: now });
      const deliveryId = newId("delivery");
      let written: boolean;
      let claimed: { id: string; attemptCount: number } | null;
      try {
        ({ written, claimed } = await writeHolderEvent(this.db(), {
          passId: pass.id,
          event: input.event,
          now,
          delivery: { id: deliveryId, projectId: pass.projectId, payload: snapshot(pass, input), isTest: !!input.test },
        }));
      } catch (e) {
        if (seq !== null) this.log.remove(seq);
        throw e;
      }
      if (claimed) await this.handOff(() => this.env.CALLBACKS_QUEUE.send({ deliveryId: claimed.id, attempt: claimed.attemptCount + 1, ...shardField(this.shardEnv()) } satisfies DeliveryTask), "callbacks");
      if (!written) return { ok: true, deliveryId: null };
      return { ok: true, deliveryId };
    });
  }

  /** Called when a delivery settled (succeeded or failed for good): the next one may go. */
  async deliverySettled(passId: number, shard?: number): Promise<void> {
    this.enter(shard);
    return this.serially(() => this.pump(passId, Date.now()));
  }

  /** Resend / recover: puts settled deliveries back in line for this pass. */
  async requeue(passId: number, deliveryIds: string[], shard?: number): Promise<number> {
    this.enter(shard);
    return this.serially(async () => {
      const now = Date.now();
      const n = await requeueDeliveries(this.db(), deliveryIds, now);
      await this.pump(passId, now);
      return n;
    });
  }

  private async pump(passId: number, now: number): Promise<void> {
    const next = await claimNextDelivery(this.db(), passId, now);
    if (next) {
      const task: DeliveryTask = { deliveryId: next.id, attempt: next.attemptCount + 1, ...shardField(this.shardEnv()) };
      await this.handOff(() => this.env.CALLBACKS_QUEUE.send(task), "callbacks");
    }
  }

  /** A failed queue send is not fatal: the row is in D1 and the cron sweep sends it again. */
  private async handOff(send: () => Promise<unknown>, queue: string): Promise<void> {
    try {
      await send();
    } catch (e) {
      logError("queue send failed; the sweep will retry", e, { queue });
    }
  }
}

