/**
 * @module dashboard/integrations/routes
 * Integration pages. Every change goes through the listener domain's verbs (the REST API's own), with
 * the body checked by the API's zod schemas; errors show the API's message.
 */
import { Hono } from "hono";
import {
  checkMapping,
  createIntegration,
  createIntegrationBody,
  deleteIntegration,
  expectedPayload,
  getIntegration,
  latestEvents,
  listEvents,
  listIntegrations,
  patchIntegration,
  patchIntegrationBody,
  replayEvent,
  rotateIntegration,
  type FieldMapping,
} from "../../listener";
import { getTemplate, listTemplates, searchPasses, type TemplateView } from "../../passes";
import { hmacSha256, toHex, utf8 } from "../../lib/crypto";
import { AppError, validationError } from "../../lib/errors";
import { parseIntId } from "../../lib/ids";
import { parseWith } from "../../lib/validation";
import { publicUrl, type DashContext, type DashEnv } from "../context";
import { attempt, page, shownError } from "../render";
import { isAction, mappingFromForm, mappingRows, setPath, shellQuote, unsafeSources, type Action } from "./actions";
import { IntegrationDetail } from "./detail";
import { EventLog } from "./events";
import { IntegrationList } from "./list";
import { ChooseStep, FieldsStep, ListenerUrlShown } from "./wizard";

const DONE: Record<string, string> = {
  deleted: "The integration was deleted; its listener URL answers 404.",
  mapping: "Mapping saved. The next request (and any replay) uses it.",
  enabled: "Enabled: the listener URL accepts requests again.",
  disabled: "Disabled: the listener URL answers 404 until you enable it.",
};

const scopeOf = (c: DashContext) => ({ env: c.env, projectId: c.get("projectId"), publicUrl: publicUrl(c) });
const passScope = (c: DashContext) => ({ env: c.env, projectId: c.get("projectId") });

/** The mapping a form describes, checked the way the API checks it (plus unsafe keys). */
function formMapping(form: URLSearchParams, template: TemplateView, action: Action) {
  const mapping = mappingFromForm(form, template.fields, action);
  const issues = [...unsafeSources(mapping), ...checkMapping({ action, fields: template.fields, mapping })];
  return { mapping, issues };
}

function preview(template: TemplateView, action: Action, mapping: FieldMapping) {
  return expectedPayload({ action, fields: template.fields, mapping });
}

/**
 * A curl that works as pasted. Create posts the example payload. The other actions need a pass that
 * exists, so they name the template's first pass; an update then sends that pass's own values with
 * every number raised by 10 (points earned), so the change shows in the passes view.
 */
async function readyCurl(c: DashContext, url: string, template: TemplateView, action: Action, mapping: FieldMapping, secret?: string) {
  let payload = preview(template, action, mapping);
  const { passes } = action === "create" ? { passes: [] } : await searchPasses(passScope(c), template.id, { limit: 1 });
  const pass = passes[0];
  if (pass) {
    const rows = mappingRows(template.fields, action, mapping).filter((r) => !r.removed);
    const own: Record<string, unknown> = {};
    let values = 0;
    for (const row of rows) {
      const current = row.locked ? pass.externalId : pass.fields[row.target];
      if (current === undefined) continue;
      setPath(own, row.source, typeof current === "number" ? current + 10 : current);
      if (!row.locked) values++;
    }
    if (values > 0 || action !== "update") payload = own;
    else setPath(payload, rows[0].source, pass.externalId);
  }
  const body = JSON.stringify(payload);
  const sig = secret ? ` \\\n  -H ${shellQuote(`x-passhook-signature: sha256=${toHex(await hmacSha256(utf8(secret), body))}`)}` : "";
  return `curl -s -H 'content-type: application/json'${sig} \\\n  -d ${shellQuote(body)} \\\n  ${shellQuote(url)}`;
}

async function templateOrNull(c: DashContext, id: number | null) {
  if (id === null) return null;
  try {
    return await getTemplate(passScope(c), id);
  } catch (e) {
    if (shownError(e)?.code === "not_found") return null;
    throw e;
  }
}

export function integrationPages() {
  return new Hono<DashEnv>()
    .get("/integrations", async (c) => {
      const scope = scopeOf(c);
      const [integrations, templates] = await Promise.all([listIntegrations(scope), listTemplates(passScope(c))]);
      const names = new Map(templates.map((t) => [t.id, t.name]));
      // The last request of every integration in one query (facts only: nothing read from R2).
      const latest = await latestEvents(scope, integrations.map((i) => i.id));
      const rows = integrations.map((i) => {
        const last = latest.get(i.id);
        return {
          id: i.id,
          name: i.name,
          action: i.action as Action,
          templateName: names.get(i.templateId) ?? `#${i.templateId}`,
          enabled: i.enabled,
          lastEvent: last ? { receivedAt: last.receivedAt, statusCode: last.statusCode } : null,
        };
      });
      return page(c, "Integrations", "integrations", <IntegrationList rows={rows} done={DONE[c.req.query("done") ?? ""]} />);
    })
    .get("/integrations/new", async (c) => {
      const templates = await listTemplates(passScope(c));
      const action = c.req.query("action");
      const template = await templateOrNull(c, parseIntId(c.req.query("templateId") ?? ""));
      if (!template || !isAction(action) || c.req.query("step") === "1") {
        return page(c, "New integration", "integrations", <ChooseStep templates={templates} templateId={template?.id} action={isAction(action) ? action : undefined} />);
      }
      const mapping: FieldMapping = {};
      return page(
        c,
        "New integration: fields",
        "integrations",
        <FieldsStep csrf={c.get("session").csrf} template={template} action={action} rows={mappingRows(template.fields, action, mapping)} payload={preview(template, action, mapping)} name="" />,
      );
    })
    .get("/integrations/preview", async (c) => {
      const q = new URL(c.req.url).searchParams;
      const action = q.get("action");
      const template = await templateOrNull(c, parseIntId(q.get("templateId") ?? ""));
      if (!template || !isAction(action)) throw new AppError("not_found", "Template not found.");
      const { mapping, issues } = formMapping(q, template, action);
      return c.json({ payload: issues.length ? null : preview(template, action, mapping), issues });
    })
    .post("/integrations", async (c) => {
      const form = c.get("form");
      const action = form.get("action");
      const template = await templateOrNull(c, parseIntId(form.get("templateId") ?? ""));
      const templates = await listTemplates(passScope(c));
      if (!template || !isAction(action)) {
        const error = { code: "validation_failed", message: "Choose one of your templates and one of the six actions." };
        return page(c, "New integration", "integrations", <ChooseStep templates={templates} error={error} />, 400);
      }
      const { mapping, issues } = formMapping(form, template, action);
      const name = (form.get("name") ?? "").trim();
      const fieldsStep = (error: ReturnType<typeof shownError>, status: number) =>
        page(
          c,
          "New integration: fields",
          "integrations",
          <FieldsStep csrf={c.get("session").csrf} template={template} action={action} rows={mappingRows(template.fields, action, mapping)} payload={error ? null : preview(template, action, mapping)} name={name} error={error} />,
          status,
        );
      if (issues.length) return fieldsStep(shownError(validationError(issues, "The field mapping does not fit this template and action.")), 400);
      if (form.get("intent") !== "save") return fieldsStep(null, 200);

      const secret = form.get("signingSecret") || undefined;
      return attempt(
        async () => {
          const body = parseWith(createIntegrationBody, { name: name || undefined, templateId: template.id, action, fieldMapping: mapping, signingSecret: secret });
          const created = await createIntegration(scopeOf(c), body);
          const curl = await readyCurl(c, created.listenerUrl!, template, action, mapping, secret);
          return page(
            c,
            "Integration saved",
            "integrations",
            <ListenerUrlShown id={created.id} title={`${created.name} is ready.`} listenerUrl={created.listenerUrl!} curl={curl} signed={created.signed} />,
            201,
          );
        },
        (e, status) => fieldsStep(e, status),
      );
    })
    .get("/integrations/:id", async (c) => {
      const i = await getIntegration(scopeOf(c), c.req.param("id"));
      const template = await getTemplate(passScope(c), i.templateId);
      const action = i.action as Action;
      return page(
        c,
        i.name,
        "integrations",
        <IntegrationDetail csrf={c.get("session").csrf} i={{ ...i, action }} template={template} rows={mappingRows(template.fields, action, i.fieldMapping)} done={DONE[c.req.query("done") ?? ""]} />,
      );
    })
    .post("/integrations/:id/mapping", async (c) => {
      const id = c.req.param("id");
      const i = await getIntegration(scopeOf(c), id);
      const template = await getTemplate(passScope(c), i.templateId);
      const action = i.action as Action;
      const { mapping, issues } = formMapping(c.get("form"), template, action);
      return attempt(
        async () => {
          if (issues.length) throw validationError(issues, "The field mapping does not fit this template and action.");
          await patchIntegration(scopeOf(c), id, parseWith(patchIntegrationBody, { fieldMapping: mapping }));
          return c.redirect(`/dashboard/integrations/${id}?done=mapping`, 303);
        },
        (error, status) =>
          page(c, i.name, "integrations", <IntegrationDetail csrf={c.get("session").csrf} i={{ ...i, action }} template={template} rows={mappingRows(template.fields, action, mapping)} error={error} />, status),
      );
    })
    .post("/integrations/:id/enabled", async (c) => {
      const id = c.req.param("id");
      const enabled = c.get("form").get("enabled") === "true";
      await patchIntegration(scopeOf(c), id, parseWith(patchIntegrationBody, { enabled }));
      return c.redirect(`/dashboard/integrations/${id}?done=${enabled ? "enabled" : "disabled"}`, 303);
    })
    .post("/integrations/:id/rotate", async (c) => {
      const rotated = await rotateIntegration(scopeOf(c), c.req.param("id"));
      const template = await getTemplate(passScope(c), rotated.templateId);
      const action = rotated.action as Action;
      const curl = await readyCurl(c, rotated.listenerUrl!, template, action, rotated.fieldMapping);
      return page(
        c,
        "New listener URL",
        "integrations",
        <ListenerUrlShown id={rotated.id} title="A new listener URL was issued; within 5 seconds the old one answers 404." listenerUrl={rotated.listenerUrl!} curl={curl} signed={false} />,
      );
    })
    .post("/integrations/:id/delete", async (c) => {
      const id = c.req.param("id");
      if (c.get("form").get("confirm") !== "yes") throw new AppError("bad_request", "Tick the confirmation box to delete the integration.");
      await deleteIntegration(scopeOf(c), id);
      return c.redirect("/dashboard/integrations?done=deleted", 303);
    })
    .get("/integrations/:id/events", async (c) => {
      const id = c.req.param("id");
      const i = await getIntegration(scopeOf(c), id);
      const { events, nextCursor } = await listEvents(scopeOf(c), id, c.req.query("cursor") || undefined, 25, { wholeBodies: true });
      return page(c, "Event log", "integrations", <EventLog csrf={c.get("session").csrf} integrationId={id} name={i.name} events={events} nextCursor={nextCursor} replayed={c.req.query("replayed")} />);
    })
    .post("/integrations/:id/events/:eventId/replay", async (c) => {
      const id = c.req.param("id");
      const replayed = await replayEvent(scopeOf(c), id, c.req.param("eventId"));
      return c.redirect(`/dashboard/integrations/${id}/events?replayed=${encodeURIComponent(replayed.id)}#${replayed.id}`, 303);
    });
}
