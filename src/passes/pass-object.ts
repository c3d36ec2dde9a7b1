/**
 * @module passes/pass-object
 * One Durable Object per pass (named `templateId:externalId`): the single write path. Every write and
 * every holder event for the pass runs here, one at a time, in arrival order.
 *
 * Why an explicit chain: the input gate only holds while the object awaits its *own* storage; D1
 * queries and queue sends open it, so two calls would otherwise interleave. `serially` runs each call
 * after the previous one settled.
 *
 * What happens "after a pass changed" is not this object's business: it writes an outbox row in the
 * same D1 batch as the change and hands an id-only task to the pushes queue; callbacks get a delivery
 * row, sequenced here so one pass's callbacks reach the server in event order.
 */
import { DurableObject } from "cloudflare:workers";
import { getDb, type Db } from "../db/client";
import { hasCallbackRegistration, claimNextDelivery, requeueDeliveries, writeHolderEvent } from "../db/queries/deliveries";
import { findPassByTarget, writePassChange } from "../db/queries/passes";
import type { DeliveryEvent, PassRecord } from "../db/schema";
import type { SerializedAppError } from "../lib/errors";
import { newId, newToken } from "../lib/ids";
import { logError } from "../lib/log";
import { iso } from "../lib/time";
import { planWrite, type PassCommand, type PassTarget } from "./plan-write";

const INTERNAL: SerializedAppError = { code: "internal", message: "Internal error.", details: null };

export type WriteOutcome =
  | { ok: true; pass: PassRecord; changed: boolean; created: boolean }
  | { ok: false; error: SerializedAppError };

export interface HolderEventInput {
  event: DeliveryEvent;
  platform: "ios" | "android";
  personalization?: Record<string, string>;
  source: string;
  /** A test send: delivered like any other, marked as a test, not logged as a holder event. */
  test?: boolean;
}

export type EmitOutcome = { ok: true; deliveryId: string | null } | { ok: false; error: SerializedAppError };

/**
 * Queue message bodies: ids only, the consumer reloads the row. `attempt` is the attempt the message
 * is for (the row's attempt count + 1 when sent): a duplicate or overtaken message is recognised and
 * dropped. `parked` marks a task the consumer itself moved to the dead-letter queue.
 */
export interface DeliveryTask {
  deliveryId: string;
  attempt: number;
  parked?: boolean;
}
export interface PushTask {
  outboxId: string;
}

export class PassObject extends DurableObject<Env> {
  private chain: Promise<unknown> = Promise.resolve();
  /** The pass row as last written by this object (undefined: not loaded). This object is its only writer. */
  private cached: PassRecord | null | undefined = undefined;

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

  private db(): Db {
    return getDb(this.env.DB);
  }

  private async load(target: PassTarget): Promise<PassRecord | null> {
    if (this.cached === undefined) this.cached = await findPassByTarget(this.db(), target.templateId, target.externalId);
    return this.cached;
  }

  /** Applies one write (create, update, status, archive) and returns the pass after it. */
  async apply(target: PassTarget, cmd: PassCommand, source: string): Promise<WriteOutcome> {
    return this.serially(async () => {
      const now = Date.now();
      const current = await this.load(target);
      const plan = planWrite(current, target, cmd, now, {
        serialNumber: crypto.randomUUID(),
        authenticationToken: newToken(24),
      });
      if (plan.kind === "error") return { ok: false, error: plan.error };
      if (plan.kind === "noop") return { ok: true, pass: plan.pass, changed: false, created: false };

      const outboxId = newId("outbox");
      try {
        this.cached = await writePassChange(this.db(), {
          pass: plan.pass,
          insert: plan.insert,
          action: plan.action,
          source,
          changes: plan.changes,
          outboxId,
          now,
        });
      } catch (e) {
        this.cached = undefined; // the batch rolled back; reload next time
        // Answered as an outcome, not thrown: an exception escaping an RPC method is reported by the
        // runtime with its stack and message, which can quote the data that failed to write.
        logError("pass write failed; nothing was written", e, { templateId: target.templateId });
        return { ok: false, error: INTERNAL };
      }
      await this.handOff(() => this.env.PUSHES_QUEUE.send({ outboxId } satisfies PushTask), "pushes");
      return { ok: true, pass: this.cached, changed: true, created: plan.insert };
    });
  }

  /** Records an install / uninstall / personalize and queues its callback delivery. */
  async emit(target: PassTarget, input: HolderEventInput): Promise<EmitOutcome> {
    return this.serially(async () => {
      const now = Date.now();
      const pass = await this.load(target);
      if (!pass) return { ok: false, error: { code: "not_found", message: "Pass not found.", details: null } };
      const db = this.db();
      const deliver = input.test || (await hasCallbackRegistration(db, pass.projectId));
      const deliveryId = deliver ? newId("delivery") : null;
      const details: Record<string, unknown> = { platform: input.platform };
      if (input.personalization) details.personalization = input.personalization;
      await writeHolderEvent(db, {
        passId: pass.id,
        version: pass.version,
        event: input.event,
        source: input.source,
        details,
        logEvent: !input.test,
        now,
        delivery: deliveryId
          ? { id: deliveryId, projectId: pass.projectId, payload: snapshot(pass, input), isTest: !!input.test }
          : null,
      });
      if (deliveryId) await this.pump(pass.id, now);
      return { ok: true, deliveryId };
    });
  }

  /** Called when a delivery settled (succeeded or failed for good): the next one may go. */
  async deliverySettled(passId: number): Promise<void> {
    return this.serially(() => this.pump(passId, Date.now()));
  }

  /** Resend / recover: puts settled deliveries back in line for this pass. */
  async requeue(passId: number, deliveryIds: string[]): Promise<number> {
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
      const task: DeliveryTask = { deliveryId: next.id, attempt: next.attemptCount + 1 };
      await this.handOff(() => this.env.CALLBACKS_QUEUE.send(task), "callbacks");
    }
  }

  /** A failed queue send is not fatal: the row is in D1 and the cron sweep sends it again. */
  private async handOff(send: () => Promise<unknown>, queue: string): Promise<void> {
    try {
      await send();
    } catch (e) {
      console.warn(JSON.stringify({ msg: "queue send failed; the sweep will retry", queue, error: String(e) }));
    }
  }
}

/** The pass as it was when the event happened (Airship's callback fields). */
function snapshot(pass: PassRecord, input: HolderEventInput): Record<string, unknown> {
  const body: Record<string, unknown> = {
    passId: pass.id,
    templateId: pass.templateId,
    serialNumber: pass.serialNumber,
    createdAt: iso(pass.createdAt),
    updatedAt: iso(pass.updatedAt),
    externalId: pass.externalId,
    platform: input.platform,
  };
  if (input.personalization) body.personalization = input.personalization;
  return body;
}
