/**
 * @module google/push
 * Shows a pass or a template at Google (google-wallet.md §2-§3), always in its CURRENT state:
 * - a template: its class, written with insert and on 409 a full update (classes are whole
 *   documents), then the template's inserted objects are asked to show again (their text-module
 *   labels and, for generic passes, logo and colours come from the template), a page at a time;
 * - a pass: the class first if we never wrote it, then the object: insert (409 -> PATCH) when we
 *   never inserted it, else a full-state PATCH; a change of a `notifyOnChange` field since the
 *   state Google last accepted adds a message, notifying within Google's 3-a-day cap (updates.ts).
 *
 * Per-pass order: the push job coalesces changes and every push reads the pass row when it starts,
 * so a late push shows the newest state, not the one that queued it. Two pushes of one pass can
 * still overlap (a change lands while a push is in flight and sends its own task); the one whose
 * request lands last could carry the older state, so after Google accepts a push it re-reads the
 * pass and pushes again if the pass moved meanwhile.
 */
import { getDb, type Db } from "../db/client";
import { advanceFanout, findGoogleClass, findGoogleObject, insertedObjectsOfTemplate, recordClassPushed, recordObjectExists, recordObjectPushed } from "../db/queries/google";
import { isAppError } from "../lib/errors";
import { passSubject, requestWalletPushes } from "../passes";
import { buildContext, clientFor, type GoogleAccount } from "./account";
import type { BuildContext } from "./body-parts";
import { classBody } from "./class-body";
import { objectBody } from "./object-body";
import { DesignError, loadPassSubject, loadTemplateSubject, type PassSubject, type TemplateSubject } from "./subject";
import { patchBody, planObjectUpdate } from "./updates";
import type { GoogleOutcome, WalletClient } from "./wallet-api";

export type PushResult =
  | { kind: "done" }
  /** More of a template's objects to hand on: send the task again. */
  | { kind: "continue" }
  /** Another message of the same template job took this page: nothing more to do here. */
  | { kind: "stop" }
  | { kind: "retry"; message: string; retryAfterSeconds: number | null }
  | { kind: "failed"; message: string };

export interface PushEnv extends Pick<Env, "DB" | "GOOGLE_QUEUE" | "PASS_OBJECT"> {}

const DONE: PushResult = { kind: "done" };
const STOP: PushResult = { kind: "stop" };
/** How many times a push shows the pass again because it moved while in flight. */
const MAX_ROUNDS = 3;
/** Objects handed on per template message (one D1 batch and one queue batch). */
export const FANOUT_PAGE = 100;

/** A Google answer that is not a success, as a push result. */
function fromOutcome(out: Exclude<GoogleOutcome, { kind: "ok" }>): PushResult {
  if (out.kind === "retryable") return { kind: "retry", message: `Google answered ${out.status ?? "no response"}: ${out.message}`, retryAfterSeconds: out.retryAfterSeconds };
  return { kind: "failed", message: `Google answered ${out.status ?? "no response"}: ${out.message}` };
}

type Loaded<T> = { ok: true; value: T } | { ok: false; gone: boolean; message: string };

/** Loads a subject; a gone pass or template, or a design that no longer parses, ends the push. */
async function load<T>(read: () => Promise<T>): Promise<Loaded<T>> {
  try {
    return { ok: true, value: await read() };
  } catch (e) {
    if (e instanceof DesignError) return { ok: false, gone: false, message: e.message };
    if (isAppError(e) && e.code === "not_found") return { ok: false, gone: true, message: "it no longer exists" };
    throw e;
  }
}

async function writeClass(db: Db, client: WalletClient, ctx: BuildContext, s: TemplateSubject, now: () => number): Promise<PushResult | null> {
  const out = await client.upsertClass(s.resource, classBody(s.templateLike, s.design, ctx));
  if (out.kind !== "ok") return fromOutcome(out);
  await recordClassPushed(db, { templateId: s.template.id, projectId: s.template.projectId, pushedAt: s.updatedAt, now: now() });
  return null;
}

/** Insert (409 -> PATCH with the full state); a 404 means the class is missing at Google: write it, once. */
async function insertObject(db: Db, client: WalletClient, ctx: BuildContext, s: PassSubject, body: Record<string, unknown>, now: () => number): Promise<PushResult | null> {
  let out = await client.upsertObject(s.resource, body, patchBody(s.resource, body));
  if (out.kind === "not_found") {
    const cls = await writeClass(db, client, ctx, s, now);
    if (cls) return cls;
    out = await client.upsertObject(s.resource, body, patchBody(s.resource, body));
  }
  return out.kind === "ok" ? null : fromOutcome(out);
}

async function showPass(db: Db, client: WalletClient, ctx: BuildContext, s: PassSubject, now: () => number): Promise<PushResult> {
  const { pass } = s;
  const [state, cls] = await Promise.all([findGoogleObject(db, pass.id), findGoogleClass(db, pass.templateId)]);
  if (!cls?.insertedAt) {
    const failed = await writeClass(db, client, ctx, s, now);
    if (failed) return failed;
  }
  const body = objectBody(s.templateLike, s.passLike, s.design, ctx);
  const objectId = String(body.id);
  let notifySentAt = state?.notifySentAt ?? [];

  if (!state?.insertedAt) {
    const failed = await insertObject(db, client, ctx, s, body, now);
    if (failed) return failed;
  } else {
    const plan = planObjectUpdate({
      resource: s.resource,
      template: s.templateLike,
      design: s.design,
      after: body,
      afterFields: pass.fields,
      version: pass.version,
      beforeFields: state.pushedFields ?? undefined,
      notifySentAt: state.notifySentAt,
      now: now(),
    });
    const patched = await client.patchObject(s.resource, objectId, plan.patch);
    if (patched.kind === "not_found") {
      // Gone at Google (e.g. the credentials now name another issuer): insert it again.
      const failed = await insertObject(db, client, ctx, s, body, now);
      if (failed) return failed;
    } else if (patched.kind !== "ok") return fromOutcome(patched);
    notifySentAt = plan.notifySentAt;
    if (plan.message) {
      let added = await client.addObjectMessage(s.resource, objectId, { ...plan.message });
      if (added.kind !== "ok" && "message" in added && plan.message.messageType === "TEXT_AND_NOTIFY" && /quotaexceeded|notification/i.test(added.message)) {
        // Google counted differently (QuotaExceededException, status not documented): show the
        // notice without notifying rather than retrying for a day.
        added = await client.addObjectMessage(s.resource, objectId, { ...plan.message, messageType: "TEXT" });
        notifySentAt = notifySentAt.slice(0, -1);
      }
      if (added.kind !== "ok") return fromOutcome(added);
    }
  }
  await recordObjectPushed(db, { passId: pass.id, projectId: pass.projectId, templateId: pass.templateId, version: pass.version, fields: pass.fields, notifySentAt, now: now() });
  return DONE;
}

/** Shows one pass as it is now. */
export async function pushPass(env: PushEnv, account: GoogleAccount, base: string, passId: number, now: () => number = Date.now): Promise<PushResult> {
  const db = getDb(env.DB);
  const scope = { env, projectId: account.projectId };
  const first = await load(() => loadPassSubject(scope, passId));
  if (!first.ok) return { kind: "failed", message: `pass ${passId}: ${first.message}` };
  let s = first.value;
  const client = clientFor(account, now);
  const ctx = await buildContext(env, account, base);
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const result = await showPass(db, client, ctx, s, now);
    if (result.kind !== "done") return result;
    const again = await load(() => loadPassSubject(scope, passId));
    if (!again.ok) return DONE;
    if (again.value.pass.version === s.pass.version && again.value.updatedAt === s.updatedAt) return DONE;
    s = again.value;
  }
  return DONE;
}

/**
 * Shows one template: its class, then hands its inserted objects on (FANOUT_PAGE per message; the
 * cursor is kept in google_classes and moved by compare-and-set, so of two messages of one job, a
 * duplicate or a re-send by the sweep, one takes each page and the other stops). A push job per
 * object coalesces with the pass's own changes: an object already showing a newer pass state is not
 * pushed again.
 */
export async function pushTemplate(env: PushEnv, account: GoogleAccount, base: string, templateId: number, now: () => number = Date.now): Promise<PushResult> {
  const db = getDb(env.DB);
  const loaded = await load(() => loadTemplateSubject({ env, projectId: account.projectId }, templateId));
  // A deleted template has nothing left to show.
  if (!loaded.ok) return loaded.gone ? DONE : { kind: "failed", message: `template ${templateId}: ${loaded.message}` };
  const s = loaded.value;
  const cls = await findGoogleClass(db, templateId);
  if (!cls?.insertedAt || cls.pushedAt < s.updatedAt) {
    const failed = await writeClass(db, clientFor(account, now), await buildContext(env, account, base), s, now);
    if (failed) return failed;
  }
  // The cursor as read (a class written just now starts at 0, 0). A newer template version's fan-out
  // has started since this message read the template: that one shows the newest state.
  const from = { at: cls?.fanoutAt ?? 0, after: cls?.fanoutAfter ?? 0 };
  if (from.at > s.updatedAt) return STOP;
  const after = from.at === s.updatedAt ? from.after : 0;
  const ids = await insertedObjectsOfTemplate(db, templateId, after, FANOUT_PAGE + 1);
  const page = ids.slice(0, FANOUT_PAGE);
  // Asked for before the cursor moves (one D1 batch, one queue batch): a crash repeats a page (the
  // pass jobs coalesce), never skips one.
  const jobs = page.map((passId) => ({ wallet: "google" as const, subject: passSubject(passId), projectId: account.projectId, wantedAt: s.updatedAt }));
  await requestWalletPushes(env, env.GOOGLE_QUEUE, jobs, now());
  if (!(await advanceFanout(db, { templateId, from, to: { at: s.updatedAt, after: page.at(-1) ?? after }, now: now() }))) return STOP;
  return ids.length > FANOUT_PAGE ? { kind: "continue" } : DONE;
}

/**
 * Inserts a pass's object now, for a save link that cannot carry it inline (too long): the class
 * first if we never wrote it, then an insert only. A 409 means it exists, which is all a skinny
 * link needs; never a PATCH here, so this cannot overwrite a newer state a queued push showed.
 */
export async function insertObjectNow(env: PushEnv, account: GoogleAccount, base: string, s: PassSubject, now: () => number = Date.now): Promise<PushResult> {
  const db = getDb(env.DB);
  const client = clientFor(account, now);
  const ctx = await buildContext(env, account, base);
  const cls = await findGoogleClass(db, s.template.id);
  if (!cls?.insertedAt) {
    const failed = await writeClass(db, client, ctx, s, now);
    if (failed) return failed;
  }
  const body = objectBody(s.templateLike, s.passLike, s.design, ctx);
  let out = await client.insertObject(s.resource, body);
  if (out.kind === "not_found") {
    const failed = await writeClass(db, client, ctx, s, now);
    if (failed) return failed;
    out = await client.insertObject(s.resource, body);
  }
  if (out.kind !== "ok" && out.kind !== "exists") return fromOutcome(out);
  await recordObjectExists(db, { passId: s.pass.id, projectId: s.pass.projectId, templateId: s.pass.templateId, now: now() });
  return DONE;
}
