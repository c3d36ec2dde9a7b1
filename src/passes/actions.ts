/**
 * @module passes/actions
 * Pass verbs for every entry point (admin API, listeners, later the wallets). Each checks ownership
 * and coerces fields at the edge, then sends exactly one command to the pass's Durable Object, which
 * orders and persists it.
 */
import { prefixShard, shardField, shardOf } from "../db/shards";
import { getDb } from "../db/client";
import { findPassById, findPassByTarget, listPassesOfTemplate } from "../db/queries/passes";
import type { PassRecord, PassStatus, TemplateRecord } from "../db/schema";
import { AppError, notFound, validationError, type FieldIssue, type SerializedAppError } from "../lib/errors";
import { pageOf } from "../lib/pagination";
import { iso } from "../lib/time";
import { coerceFields, type FieldPatch } from "./fields";
import type { EmitOutcome, HolderEventInput, PassObject, WriteOutcome } from "./pass-object";
import type { PassCommand, PassTarget } from "./plan-write";
import type { LoggedAnswer, Receipt } from "./receipt";
import type { HistoryEvent } from "./history";
import { ownedTemplate } from "./templates";
import { passView, type PassView } from "./view";

export interface PassScope {
  env: Pick<Env, "DB" | "PASS_OBJECT">;
  projectId: string;
  /** Who wrote: `api`, `listener:<integrationId>`, `apple`, `google`. Recorded in the event log. */
  source: string;
}

export type PassRef = { passId: number } | { templateId: number; externalId: string };

export interface WriteResult {
  pass: PassView;
  created: boolean;
  changed: boolean;
  /** The answer recorded with the request's receipt (WriteOptions.receipt). */
  logged?: LoggedAnswer;
}

/**
 * The stub of a pass's Durable Object. Template ids are per D1 shard, so a pass outside shard 0 has
 * its shard in the object's name (`<shard>/<templateId>:<externalId>`); shard 0 keeps the name it had
 * before sharding, and with it its history.
 */
export function passObject(env: Pick<Env, "PASS_OBJECT">, target: PassTarget): DurableObjectStub<PassObject> {
  const ns = env.PASS_OBJECT as unknown as DurableObjectNamespace<PassObject>;
  return ns.getByName(prefixShard(env, "/", `${target.templateId}:${target.externalId}`));
}

/** The target as the pass object takes it: with the shard `env.DB` is. */
function located(env: object, t: { templateId: number; externalId: string }): PassTarget {
  return { templateId: t.templateId, externalId: t.externalId, ...shardField(env) };
}

/**
 * A write the pass's object refused or failed. `logged` is the answer recorded with the request's
 * receipt, when the caller gave one and the object wrote it.
 */
export class PassWriteError extends AppError {
  constructor(
    e: SerializedAppError,
    readonly logged?: LoggedAnswer,
  ) {
    super(e.code, e.message, e.details);
  }
}

function unwrap(outcome: WriteOutcome): WriteResult {
  if (!outcome.ok) throw new PassWriteError(outcome.error, outcome.logged);
  return { pass: passView(outcome.pass), created: outcome.created, changed: outcome.changed, logged: outcome.logged };
}

/** The caller may hand over a template it already loaded (a listener does); it is still checked. */
async function templateFor(scope: Omit<PassScope, "source">, templateId: number, known?: TemplateRecord): Promise<TemplateRecord> {
  if (known && known.id === templateId && known.projectId === scope.projectId) return known;
  return ownedTemplate(scope, templateId);
}

async function resolve(scope: PassScope, ref: PassRef, known?: TemplateRecord): Promise<{ template: TemplateRecord; target: PassTarget }> {
  if ("passId" in ref) {
    const pass = await findPassById(getDb(scope.env.DB), ref.passId);
    if (!pass || pass.projectId !== scope.projectId) throw notFound("Pass");
    const template = await templateFor(scope, pass.templateId, known);
    return { template, target: { templateId: pass.templateId, externalId: pass.externalId } };
  }
  const template = await templateFor(scope, ref.templateId, known);
  return { template, target: { templateId: ref.templateId, externalId: ref.externalId } };
}

async function send(scope: PassScope, target: PassTarget, cmd: PassCommand, opts: WriteOptions): Promise<WriteResult> {
  const at = located(scope.env, target);
  return unwrap(await passObject(scope.env, at).apply(at, cmd, scope.source, opts.receipt));
}

export interface WriteOptions {
  /** Names a field in error paths (a listener names the sender's key). */
  pathOf?: (key: string) => string;
  /** The pass's template, when the caller has it already (saves a read on the listener's hot path). */
  template?: TemplateRecord;
  /** A listener request's receipt, written in the same D1 batch as the change (passes/receipt.ts). */
  receipt?: Receipt;
}

function coerced(template: TemplateRecord, input: Record<string, unknown>, mode: "create" | "update", opts: WriteOptions): FieldPatch {
  const r = coerceFields(template.fields, input, { mode, unknown: "reject", pathOf: opts.pathOf });
  if (!r.ok) throw validationError(r.issues, fieldMessage(r.issues));
  return r.values;
}

function fieldMessage(issues: FieldIssue[]): string {
  const first = issues[0];
  return issues.length === 1 ? `Field ${first.path} ${first.message}.` : `${issues.length} fields are invalid; see details.`;
}

export interface CreateInput {
  externalId?: string;
  fields: Record<string, unknown>;
  /** Listeners treat an identical repeat as success; the admin API answers 409. */
  onExisting?: "conflict" | "identical-ok";
}

export async function createPass(scope: PassScope, templateId: number, input: CreateInput, opts: WriteOptions = {}): Promise<WriteResult> {
  const template = await templateFor(scope, templateId, opts.template);
  const fields = coerced(template, input.fields, "create", opts) as Record<string, string | number>;
  const target = { templateId, externalId: input.externalId ?? crypto.randomUUID() };
  return send(scope, target, { op: "create", projectId: scope.projectId, fields, onExisting: input.onExisting ?? "conflict" }, opts);
}

/** Merges `fields` into the pass (null clears an optional field). */
export async function updatePass(scope: PassScope, ref: PassRef, fields: Record<string, unknown>, opts: WriteOptions = {}): Promise<WriteResult> {
  const { template, target } = await resolve(scope, ref, opts.template);
  return send(scope, target, { op: "update", patch: coerced(template, fields, "update", opts) }, opts);
}

export async function setPassStatus(scope: PassScope, ref: PassRef, status: PassStatus, opts: WriteOptions = {}): Promise<WriteResult> {
  const { target } = await resolve(scope, ref, opts.template);
  return send(scope, target, { op: "status", status }, opts);
}

export async function archivePass(scope: PassScope, ref: PassRef, opts: WriteOptions = {}): Promise<WriteResult> {
  const { target } = await resolve(scope, ref, opts.template);
  return send(scope, target, { op: "archive" }, opts);
}

export async function getPass(scope: Omit<PassScope, "source">, ref: PassRef): Promise<PassView> {
  const db = getDb(scope.env.DB);
  let pass: PassRecord | null;
  if ("passId" in ref) pass = await findPassById(db, ref.passId);
  else {
    await templateFor(scope, ref.templateId);
    pass = await findPassByTarget(db, ref.templateId, ref.externalId);
  }
  if (!pass || pass.projectId !== scope.projectId) throw notFound("Pass");
  return passView(pass);
}

export async function listPasses(scope: Omit<PassScope, "source">, templateId: number, cursor: string | undefined, limit: number) {
  await ownedTemplate(scope, templateId);
  const after = cursor ? Number.parseInt(cursor, 10) : 0;
  if (!Number.isSafeInteger(after) || after < 0) throw new AppError("bad_request", "The cursor is not valid.");
  const rows = await listPassesOfTemplate(getDb(scope.env.DB), templateId, after, limit + 1);
  const { page, nextCursor } = pageOf(rows, limit, (p) => String(p.id));
  return { passes: page.map(passView), nextCursor };
}

export interface HistoryPage {
  events: { id: number; version: number; kind: string; action: string; source: string; changes: Record<string, unknown>; at: string }[];
  nextCursor: string | null;
}

/** A pass's history (writes and holder events), newest first, from its Durable Object's storage. */
export async function passHistory(scope: Omit<PassScope, "source">, ref: PassRef, cursor: string | undefined, limit: number): Promise<HistoryPage> {
  const { target } = await resolve({ ...scope, source: "api" }, ref);
  const before = cursor ? Number(cursor) : null;
  if (before !== null && !Number.isSafeInteger(before)) throw new AppError("bad_request", "The cursor is not valid.");
  const at = located(scope.env, target);
  const rows = (await passObject(scope.env, at).history(at, before, limit + 1)) as HistoryEvent[];
  const { page, nextCursor } = pageOf(rows, limit, (e) => String(e.seq));
  return { events: page.map((e) => ({ id: e.seq, version: e.version, kind: e.kind, action: e.action, source: e.source, changes: e.changes, at: iso(e.at) })), nextCursor };
}

/**
 * The seam for holder events (install, uninstall, personalize): the wallets call it when a device
 * registers or Google reports a save; callbacks call it for test sends. Returns the delivery id when
 * a callback is to be made.
 */
export async function emitHolderEvent(env: PassScope["env"], passId: number, input: HolderEventInput): Promise<string | null> {
  const pass = await findPassById(getDb(env.DB), passId);
  if (!pass) throw notFound("Pass");
  const at = located(env, pass);
  const outcome = (await passObject(env, at).emit(at, input)) as EmitOutcome;
  if (!outcome.ok) throw AppError.from(outcome.error);
  return outcome.deliveryId;
}

/** Tells a pass's sequencer that one of its deliveries settled, so the next may go. */
export async function deliverySettled(env: PassScope["env"], target: PassTarget, passId: number): Promise<void> {
  await passObject(env, target).deliverySettled(passId, shardOf(env) || undefined);
}

/** Puts settled deliveries of one pass back in line. */
export async function requeueDeliveries(env: PassScope["env"], target: PassTarget, passId: number, ids: string[]): Promise<number> {
  return passObject(env, target).requeue(passId, ids, shardOf(env) || undefined);
}
