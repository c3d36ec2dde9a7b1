/**
 * @module listener/process
 * Runs one listener body through an integration: parse (JSON or form), map, coerce, and one pass
 * verb through the pass's Durable Object, which writes the request's receipt (its inbound event and
 * idempotency answer) in the same D1 batch as the change. Shared by live requests and replays from
 * the event log, so a replay behaves exactly like a new request under the integration's current mapping.
 */
import type { IntegrationRecord, TemplateRecord } from "../db/schema";
import { isJsonContentType, parseJsonText } from "../lib/body";
import { AppError, validationError } from "../lib/errors";
import { archivePass, createPass, PassWriteError, setPassStatus, updatePass, type PassScope, type ReceiptAnswer, type WriteResult } from "../passes";
import { receiptRow, type EventDraft } from "./draft";
import { applyMapping } from "./mapping";

export interface Outcome {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  error?: { code: string; message: string };
  passId?: number;
  passVersion?: number;
}

export function errorOutcome(e: AppError): Outcome {
  return { status: e.status, body: e.toBody(), headers: e.headers, error: { code: e.code, message: e.message } };
}

function answered(a: ReceiptAnswer): Outcome {
  return {
    status: a.status,
    body: a.body,
    error: a.errorCode ? { code: a.errorCode, message: a.errorMessage ?? "" } : undefined,
    passId: a.passId ?? undefined,
    passVersion: a.passVersion ?? undefined,
  };
}

const FORM = "application/x-www-form-urlencoded";

/** The payload as an object: JSON objects and form posts only. */
export function parsePayload(text: string, contentType: string | null): Record<string, unknown> {
  const mime = (contentType ?? "").split(";")[0].trim().toLowerCase();
  if (mime === FORM) return Object.fromEntries(new URLSearchParams(text));
  if (!isJsonContentType(contentType)) {
    throw new AppError("unsupported_media_type", `Send the payload as application/json or ${FORM}.`, { contentType: contentType?.slice(0, 200) ?? null });
  }
  const value = text.trim() === "" ? {} : parseJsonText(text);
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new AppError("bad_request", "The payload must be a JSON object.");
  }
  return value as Record<string, unknown>;
}

const STATUS_OF = { expire: "expired", void: "voided", redeem: "redeemed" } as const;

/** Processes `draft.body`; when the pass's object logged the receipt, `draft.logged` is set and the outcome is what it logged. */
export async function processPayload(env: PassScope["env"], integration: IntegrationRecord, template: TemplateRecord, draft: EventDraft): Promise<Outcome> {
  const payload = parsePayload(draft.body, draft.contentType);
  const spec = { action: integration.action, fields: template.fields, mapping: integration.fieldMapping };
  const mapped = applyMapping(spec, payload);
  if (!mapped.ok) throw validationError(mapped.error, "The payload does not carry a usable pass-id.");
  const { externalId, values, sourceOf, ignoredFields } = mapped.value;
  const scope: PassScope = { env, projectId: integration.projectId, source: `listener:${integration.id}` };
  const ref = { templateId: integration.templateId, externalId };
  const receipt = { ...receiptRow(draft), answer: { externalId, action: integration.action, ignoredFields } };
  const opts = { pathOf: (key: string) => sourceOf[key] ?? key, template, receipt };

  let result: WriteResult;
  try {
    switch (integration.action) {
      case "create":
        result = await createPass(scope, integration.templateId, { externalId, fields: values, onExisting: "identical-ok" }, opts);
        break;
      case "update":
        result = await updatePass(scope, ref, values, opts);
        break;
      case "archive":
        result = await archivePass(scope, ref, opts);
        break;
      default:
        result = await setPassStatus(scope, ref, STATUS_OF[integration.action], opts);
    }
  } catch (e) {
    if (e instanceof PassWriteError && e.logged) {
      draft.logged = true;
      draft.eventId = e.logged.eventId;
      return answered(e.logged);
    }
    throw e;
  }
  if (result.logged) {
    draft.logged = true;
    draft.eventId = result.logged.eventId;
    return answered(result.logged);
  }
  const { pass } = result;
  return {
    status: result.created ? 201 : 200,
    body: { passId: pass.id, externalId: pass.externalId, action: integration.action, status: pass.status, version: pass.version, ignoredFields },
    passId: pass.id,
    passVersion: pass.version,
  };
}
