/**
 * @module google/subscriber
 * Google's part of a change (passes/outbox.ts ChangeSubscriber): for a project with Google
 * credentials, record a push job and send its task; nothing slow happens here. A pass change is
 * job `p:<passId>` (insert or patch its object), a template change job `t:<templateId>` (upsert its
 * class, then re-show its objects). Idempotent: the job row coalesces repeats.
 */
import { loadWalletCredentials, type LoadedCredentials } from "../projects";
import { passSubject, requestWalletPush, templateSubject, type ChangeSubscriber } from "../passes";

export function googleSubscriber(env: Pick<Env, "DB" | "MASTER_KEY" | "GOOGLE_QUEUE">): ChangeSubscriber {
  return async (change) => {
    const creds: LoadedCredentials<unknown> | null = await loadWalletCredentials(env, change.projectId, "google");
    if (!creds) return;
    const subject = change.kind === "pass" ? passSubject(change.passId) : templateSubject(change.templateId);
    await requestWalletPush(env, env.GOOGLE_QUEUE, { wallet: "google", subject, projectId: change.projectId, wantedAt: change.at });
  };
}
