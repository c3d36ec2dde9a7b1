/**
 * @module passes/plan-write
 * Decides what one write does to a pass (pure, clock passed in): insert, update, a no-op, or an error.
 * The Durable Object runs this under its lock and persists the plan; nothing here does I/O.
 */
import type { FieldValues, PassRecord, PassStatus } from "../db/schema";
import type { SerializedAppError } from "../lib/errors";
import { mergeFields, type FieldPatch } from "./fields";
import { allowedTargets, checkTransition } from "./transitions";

/** The stored pass row (the D1 schema's type). */
export type PassRow = PassRecord;

export interface PassTarget {
  templateId: number;
  externalId: string;
  /** The D1 shard of the pass's project (db/shards.ts); absent for shard 0. */
  shard?: number;
}

export type PassCommand =
  | { op: "create"; projectId: string; fields: FieldValues; onExisting: "conflict" | "identical-ok" }
  | { op: "update"; patch: FieldPatch }
  | { op: "status"; status: PassStatus }
  | { op: "archive" };

export type WriteAction = "create" | "update" | "status" | "archive";

export type Plan =
  | { kind: "error"; error: SerializedAppError }
  | { kind: "noop"; pass: PassRow }
  | { kind: "write"; action: WriteAction; pass: PassRow; changes: Record<string, unknown>; insert: boolean };

export interface FreshSecrets {
  serialNumber: string;
  authenticationToken: string;
}

const error = (code: SerializedAppError["code"], message: string, details: unknown = null): Plan => ({
  kind: "error",
  error: { code, message, details },
});

export function planWrite(current: PassRow | null, target: PassTarget, cmd: PassCommand, now: number, fresh: FreshSecrets): Plan {
  if (cmd.op === "create") {
    if (current?.archivedAt) return archived(current);
    if (current) {
      if (cmd.onExisting === "identical-ok" && sameFields(current.fields, cmd.fields)) {
        return { kind: "noop", pass: current };
      }
      return error("already_exists", `A pass with externalId "${target.externalId}" already exists for this template.`, {
        passId: current.id,
      });
    }
    const pass: PassRow = {
      id: 0, // assigned by D1
      projectId: cmd.projectId,
      templateId: target.templateId,
      externalId: target.externalId,
      serialNumber: fresh.serialNumber,
      authenticationToken: fresh.authenticationToken,
      status: "active",
      fields: cmd.fields,
      version: 1,
      createdAt: now,
      updatedAt: now,
      archivedAt: null,
    };
    return { kind: "write", action: "create", pass, changes: { fields: cmd.fields }, insert: true };
  }

  if (!current) return error("not_found", `No pass with externalId "${target.externalId}" for this template.`);
  if (current.archivedAt) return archived(current);
  const bump = (patch: Partial<PassRow>): PassRow => ({ ...current, ...patch, version: current.version + 1, updatedAt: now });

  switch (cmd.op) {
    case "update": {
      const { next, changed } = mergeFields(current.fields, cmd.patch);
      if (Object.keys(changed).length === 0) return { kind: "noop", pass: current };
      return { kind: "write", action: "update", pass: bump({ fields: next }), changes: { fields: changed }, insert: false };
    }
    case "status": {
      const verdict = checkTransition(current.status, cmd.status);
      if (verdict === "noop") return { kind: "noop", pass: current };
      if (verdict === "illegal") {
        return error("illegal_transition", `The pass is ${current.status} and cannot become ${cmd.status}.`, {
          currentStatus: current.status,
          requestedStatus: cmd.status,
          allowed: allowedTargets(current.status),
        });
      }
      return {
        kind: "write",
        action: "status",
        pass: bump({ status: cmd.status }),
        changes: { status: { from: current.status, to: cmd.status } },
        insert: false,
      };
    }
    case "archive":
      return { kind: "write", action: "archive", pass: bump({ archivedAt: now }), changes: { archivedAt: now }, insert: false };
  }
}

function archived(current: PassRow): Plan {
  return error("pass_archived", "This pass is archived and cannot be changed.", { archivedAt: new Date(current.archivedAt!).toISOString() });
}

function sameFields(a: FieldValues, b: FieldValues): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}
