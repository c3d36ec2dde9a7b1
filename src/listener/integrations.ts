/**
 * @module listener/integrations
 * Integration verbs: one template + one action + a field mapping, reachable at an unguessable
 * listener URL. The URL's token (256 random bits) is shown once, at creation and on rotation, and
 * stored only as its SHA-256; the optional signing secret is stored encrypted under MASTER_KEY.
 */
import { prefixShard } from "../db/shards";
import { getDb } from "../db/client";
import {
  deleteIntegration as deleteRow,
  findIntegration,
  insertIntegration,
  listIntegrationsOfProject,
  updateIntegration,
} from "../db/queries/integrations";
import type { IntegrationAction, IntegrationRecord, TemplateRecord } from "../db/schema";
import { constantTimeEqual, decryptSecret, encryptSecret, sha256Hex } from "../lib/crypto";
import { notFound, validationError } from "../lib/errors";
import { newId, newToken } from "../lib/ids";
import { iso } from "../lib/time";
import { ownedTemplate } from "../passes";
import { logError } from "../lib/log";
import { deleteIntegrationDetails } from "./event-details";
import { forgetIntegration } from "./lookup";
import { checkMapping, expectedPayload, type FieldMapping } from "./mapping";

export interface IntegrationScope {
  env: Pick<Env, "DB" | "MASTER_KEY">;
  projectId: string;
  /** Base of listener URLs: PUBLIC_URL, else the request's origin. */
  publicUrl: string;
}

export const secretContext = (integrationId: string) => `integration-signing:${integrationId}`;

/**
 * Other integrations of the project signed with the same secret. A signature binds the body, not the
 * URL, so a request captured on one of them verifies on the others: the answer warns about it
 * (senders that sign everything with one app secret cannot avoid it, so it is not refused).
 */
async function sharingSecret(scope: IntegrationScope, id: string, secret: string): Promise<string[]> {
  const others = (await listIntegrationsOfProject(getDb(scope.env.DB), scope.projectId)).filter((r) => r.id !== id && r.signingSecretEnc);
  const out: string[] = [];
  for (const r of others) {
    const theirs = await decryptSecret(scope.env.MASTER_KEY, r.signingSecretEnc!, secretContext(r.id));
    if (await constantTimeEqual(theirs, secret)) out.push(r.id);
  }
  return out;
}

function secretWarnings(ids: string[]): { warnings?: string[] } {
  if (!ids.length) return {};
  return {
    warnings: [
      `This signing secret is also used by ${ids.join(", ")}: a request captured on one of these URLs verifies on the others. Give each integration its own secret where the sender allows it.`,
    ],
  };
}

function view(scope: IntegrationScope, row: IntegrationRecord, template: TemplateRecord, token?: string) {
  return {
    id: row.id,
    projectId: row.projectId,
    templateId: row.templateId,
    name: row.name,
    action: row.action,
    fieldMapping: row.fieldMapping,
    enabled: row.enabled,
    signed: row.signingSecretEnc != null,
    ...(token ? { listenerUrl: `${scope.publicUrl}/hooks/${token}` } : {}),
    listenerUrlHint: `${scope.publicUrl}/hooks/${row.tokenHint}…`,
    expectedPayload: expectedPayload({ action: row.action, fields: template.fields, mapping: row.fieldMapping }),
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  };
}

/** A listener token; outside D1 shard 0 it starts with `<shard>.`, so a request finds its shard unread. */
async function mintToken(env: object) {
  const token = prefixShard(env, ".", newToken(32));
  return { token, tokenHash: await sha256Hex(token), tokenHint: token.slice(0, 6) };
}

function assertMapping(action: IntegrationAction, template: TemplateRecord, mapping: FieldMapping) {
  const issues = checkMapping({ action, fields: template.fields, mapping });
  if (issues.length) throw validationError(issues, "The field mapping does not fit this template and action.");
}

async function owned(scope: IntegrationScope, id: string) {
  const row = await findIntegration(getDb(scope.env.DB), id);
  if (!row || row.projectId !== scope.projectId) throw notFound("Integration");
  return { row, template: await ownedTemplate(scope, row.templateId) };
}

export interface CreateIntegrationInput {
  name?: string;
  templateId: number;
  action: IntegrationAction;
  fieldMapping?: FieldMapping;
  signingSecret?: string;
}

export async function createIntegration(scope: IntegrationScope, input: CreateIntegrationInput, now = Date.now()) {
  const template = await ownedTemplate(scope, input.templateId);
  const mapping = input.fieldMapping ?? {};
  assertMapping(input.action, template, mapping);
  const id = newId("integration");
  const t = await mintToken(scope.env);
  const row = await insertIntegration(getDb(scope.env.DB), {
    id,
    projectId: scope.projectId,
    templateId: template.id,
    name: input.name ?? `${input.action} ${template.name}`,
    action: input.action,
    fieldMapping: mapping,
    signingSecretEnc: input.signingSecret ? await encryptSecret(scope.env.MASTER_KEY, input.signingSecret, secretContext(id)) : null,
    tokenHash: t.tokenHash,
    tokenHint: t.tokenHint,
    enabled: true,
    createdAt: now,
    updatedAt: now,
  });
  const shared = input.signingSecret ? await sharingSecret(scope, id, input.signingSecret) : [];
  return { ...view(scope, row, template, t.token), ...secretWarnings(shared) };
}

export async function listIntegrations(scope: IntegrationScope) {
  const db = getDb(scope.env.DB);
  const rows = await listIntegrationsOfProject(db, scope.projectId);
  const templates = new Map<number, TemplateRecord>();
  for (const r of rows) if (!templates.has(r.templateId)) templates.set(r.templateId, await ownedTemplate(scope, r.templateId));
  return rows.map((r) => view(scope, r, templates.get(r.templateId)!));
}

export async function getIntegration(scope: IntegrationScope, id: string) {
  const { row, template } = await owned(scope, id);
  return view(scope, row, template);
}

export interface PatchIntegrationInput {
  name?: string;
  fieldMapping?: FieldMapping;
  signingSecret?: string | null;
  enabled?: boolean;
}

export async function patchIntegration(scope: IntegrationScope, id: string, input: PatchIntegrationInput, now = Date.now()) {
  const { row, template } = await owned(scope, id);
  const patch: Partial<IntegrationRecord> = { updatedAt: now };
  if (input.name !== undefined) patch.name = input.name;
  if (input.enabled !== undefined) patch.enabled = input.enabled;
  if (input.fieldMapping !== undefined) {
    assertMapping(row.action, template, input.fieldMapping);
    patch.fieldMapping = input.fieldMapping;
  }
  if (input.signingSecret !== undefined) {
    patch.signingSecretEnc = input.signingSecret === null ? null : await encryptSecret(scope.env.MASTER_KEY, input.signingSecret, secretContext(id));
  }
  const updated = await updateIntegration(getDb(scope.env.DB), id, patch);
  forgetIntegration(id);
  const shared = input.signingSecret ? await sharingSecret(scope, id, input.signingSecret) : [];
  return { ...view(scope, updated, template), ...secretWarnings(shared) };
}

/** Deletes the integration and its event log: the rows cascade, the R2 details follow in pages. */
export async function deleteIntegration(scope: IntegrationScope & { env: Pick<Env, "EVENT_LOG"> }, id: string): Promise<void> {
  await owned(scope, id);
  await deleteRow(getDb(scope.env.DB), id);
  forgetIntegration(id);
  try {
    if (await deleteIntegrationDetails(scope.env, id)) {
      console.log(JSON.stringify({ msg: "integration deleted; R2's lifecycle rule removes the rest of its event details", integration: id }));
    }
  } catch (e) {
    logError("integration deleted; its event details stay until R2's lifecycle rule removes them", e, { integration: id });
  }
}

/** Issues a new listener URL; the old one answers 404 (within the lookup cache's 5 s elsewhere). */
export async function rotateIntegration(scope: IntegrationScope, id: string, now = Date.now()) {
  const { template } = await owned(scope, id);
  const t = await mintToken(scope.env);
  const row = await updateIntegration(getDb(scope.env.DB), id, { tokenHash: t.tokenHash, tokenHint: t.tokenHint, updatedAt: now });
  forgetIntegration(id);
  return view(scope, row, template, t.token);
}

export { owned as ownedIntegration };
