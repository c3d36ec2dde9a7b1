/**
 * @module apple/fanout
 * A template edit (design, fields, images) reaches every holder: the `t:<templateId>` job pages
 * through the template's passes that have devices, by pass id, FANOUT_PAGE at a time. Each page
 * stamps those passes' registrations with a new update tag, asks for a push job per pass (one D1
 * batch, one queue batch), moves the cursor stored in `apple_templates`, and sends the job's task
 * again for the next page: no unbounded loop in one invocation, and progress `{state, done, total}` in
 * `GET /v1/template/{id}/pushes`. The cursor moves by compare-and-set, so when two messages of one job
 * meet (an edit during a fan-out restarts it), one takes each page and the other stops.
 */
import { getDb } from "../db/client";
import { claimTemplatePage, countTemplatePassesWithDevices } from "../db/queries/apple-registrations";
import { advanceFanout, failFanout, findAppleTemplate, startFanout } from "../db/queries/apple-templates";
import type { AppleTemplateRecord } from "../db/schema";
import { iso } from "../lib/time";
import { ownedTemplate, passSubject, requestWalletPushes, type WalletJobRecord, type WalletTask } from "../passes";
import { PUBLIC_URL_MISSING } from "./config";
import { apnsKey, loadAppleCredentials } from "./credentials";

export const FANOUT_PAGE = 100;

type FanoutEnv = Pick<Env, "DB" | "MASTER_KEY" | "APPLE_QUEUE" | "PUBLIC_URL">;

export type FanoutResult = { kind: "next" } | { kind: "done"; shownAt: number } | { kind: "stop" } | { kind: "failed"; reason: string };

/** Handles one page of the template's fan-out for `job`. */
export async function fanOutPage(env: FanoutEnv, task: WalletTask, job: WalletJobRecord, templateId: number, now: number): Promise<FanoutResult> {
  const db = getDb(env.DB);
  let state = await findAppleTemplate(db, templateId);
  if (!state || state.fanoutWantedAt < job.wantedAt) {
    const total = await countTemplatePassesWithDevices(db, templateId);
    await startFanout(db, { templateId, projectId: job.projectId, wantedAt: job.wantedAt, total, now });
    state = await findAppleTemplate(db, templateId);
  }
  if (!state) return { kind: "stop" }; // the template was deleted meanwhile
  if (state.fanoutState === "done") return { kind: "done", shownAt: state.fanoutWantedAt };
  if (state.fanoutState !== "running") return { kind: "failed", reason: state.fanoutError ?? "the fan-out failed" };

  const creds = await loadAppleCredentials(env, job.projectId);
  const reason = !env.PUBLIC_URL ? PUBLIC_URL_MISSING : creds ? null : "The project has no Apple credentials.";
  if (reason) {
    await failFanout(db, templateId, reason, now);
    return { kind: "failed", reason };
  }

  const ids = await claimTemplatePage(db, templateId, state.fanoutCursor, FANOUT_PAGE, now);
  // Pushes are asked for before the cursor moves: a crash here repeats a page (jobs coalesce), never
  // skips one. Without an APNs key the tags still move; nothing is pushed.
  if (creds && apnsKey(creds))
    await requestWalletPushes(env, env.APPLE_QUEUE, ids.map((id) => ({ wallet: "apple" as const, subject: passSubject(id), projectId: job.projectId, wantedAt: now })), now);
  const finished = ids.length < FANOUT_PAGE;
  const won = await advanceFanout(db, { templateId, run: state.fanoutRun, from: state.fanoutCursor, to: ids.at(-1) ?? state.fanoutCursor, handed: ids.length, finished, now });
  if (!won) return { kind: "stop" };
  if (finished) return { kind: "done", shownAt: state.fanoutWantedAt };
  await env.APPLE_QUEUE.send(task);
  return { kind: "next" };
}

export async function failTemplateFanout(env: Pick<Env, "DB">, templateId: number, reason: string, now = Date.now()): Promise<void> {
  await failFanout(getDb(env.DB), templateId, reason, now);
}

/** Progress of a template's last fan-out (`GET /v1/template/{id}/pushes`). */
export async function templatePushes(scope: { env: Pick<Env, "DB">; projectId: string }, templateId: number) {
  await ownedTemplate(scope, templateId);
  return { apple: progressView(await findAppleTemplate(getDb(scope.env.DB), templateId)) };
}

function progressView(s: AppleTemplateRecord | null) {
  if (!s?.fanoutState) return { state: "idle" as const, done: 0, total: 0, startedAt: null, finishedAt: null, error: null };
  return {
    state: s.fanoutState,
    done: s.fanoutDone,
    total: s.fanoutTotal,
    startedAt: s.fanoutStartedAt === null ? null : iso(s.fanoutStartedAt),
    finishedAt: s.fanoutFinishedAt === null ? null : iso(s.fanoutFinishedAt),
    error: s.fanoutError,
  };
}
