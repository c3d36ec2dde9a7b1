/** @module dashboard/passes/routes — the passes view and one pass's detail, through the passes domain's read verbs. */
import { Hono } from "hono";
import { getPass, getPassHistory, getTemplate, listTemplates, passPageUrl, searchPasses, PASS_FILTERS, type PassFilter, type PassView } from "../../passes";
import { AppError, notFound } from "../../lib/errors";
import { parseIntId } from "../../lib/ids";
import { publicUrl, type DashContext, type DashEnv, type ResolvedOptions } from "../context";
import { page } from "../render";
import { PassDetail } from "./detail";
import { PassList } from "./list";
import { qrSvg } from "./qr";

const scopeOf = (c: DashContext) => ({ env: c.env, projectId: c.get("projectId") });
const isFilter = (s: string): s is PassFilter => (PASS_FILTERS as readonly string[]).includes(s);

export function passPages(opts: ResolvedOptions) {
  return new Hono<DashEnv>()
    .get("/passes", async (c) => {
      const templates = await listTemplates(scopeOf(c));
      const asked = parseIntId(c.req.query("templateId") ?? "");
      const templateId = asked ?? templates[0]?.id ?? null;
      const externalId = (c.req.query("externalId") ?? "").trim().slice(0, 200);
      const status = c.req.query("status") ?? "";
      if (status && !isFilter(status)) throw new AppError("bad_request", `Unknown status filter; use one of ${PASS_FILTERS.join(", ")}.`);
      let passes: PassView[] = [];
      let nextCursor: string | null = null;
      let notFoundId = false;
      if (templateId !== null) {
        if (externalId) {
          try {
            passes = [await getPass(scopeOf(c), { templateId, externalId })];
          } catch (e) {
            if (!(e instanceof AppError && e.code === "not_found" && e.message.startsWith("Pass"))) throw e;
            notFoundId = true;
          }
        } else {
          ({ passes, nextCursor } = await searchPasses(scopeOf(c), templateId, { filter: status ? (status as PassFilter) : undefined, cursor: c.req.query("cursor") || undefined, limit: 50 }));
        }
      }
      return page(
        c,
        "Passes",
        "passes",
        <PassList templates={templates} templateId={templateId} externalId={externalId} status={status} filters={PASS_FILTERS} passes={passes} nextCursor={nextCursor} notFound={notFoundId} />,
      );
    })
    .get("/passes/:id", async (c) => {
      const passId = parseIntId(c.req.param("id"));
      if (passId === null) throw notFound("Pass");
      const pass = await getPass(scopeOf(c), { passId });
      const [template, history, wallets, pageUrl] = await Promise.all([
        getTemplate(scopeOf(c), pass.templateId),
        getPassHistory(scopeOf(c), passId),
        opts.holderWallets(c.env, pass.projectId),
        passPageUrl(c.env, publicUrl(c), pass),
      ]);
      return page(
        c,
        `Pass ${pass.externalId}`,
        "passes",
        <PassDetail pass={pass} template={template} history={history} pageUrl={pageUrl} qr={qrSvg(pageUrl, `QR code of the holder page ${pageUrl}`)} wallets={wallets} />,
      );
    });
}
