/**
 * @module apple/subscriber
 * Apple's part in a change (passes/outbox.ts `ChangeSubscriber`): decide quickly whether any iPhone
 * must hear of it and record that, nothing slower. A pass change stamps the pass's registrations with
 * a new update tag (so the device's "what changed" lists it) and asks for a push job `p:<passId>`; a
 * template change asks for a fan-out job `t:<templateId>` (fanout.ts). No credentials or no registered
 * device: nothing to do, no job; without an APNs key tags still move, but nothing is pushed. Running
 * twice for one change only stamps a newer tag.
 */
import { getDb } from "../db/client";
import { templateHasRegistrations, touchPass } from "../db/queries/apple-registrations";
import { passSubject, requestWalletPush, templateSubject, type ChangeSubscriber, type WalletChange } from "../passes";
import { apnsKey, loadAppleCredentials } from "./credentials";

type SubscriberEnv = Pick<Env, "DB" | "MASTER_KEY" | "APPLE_QUEUE">;

/**
 * A pass changed at `at`: stamp its registrations (devices see the change when they next ask, pushed
 * or not), and ask for a push when it has any and the project has an APNs key.
 */
export async function requestPassPush(env: SubscriberEnv, projectId: string, passId: number, at: number, now = Date.now()): Promise<boolean> {
  const creds = await loadAppleCredentials(env, projectId);
  if (!creds) return false;
  if ((await touchPass(getDb(env.DB), passId, now)) === 0 || !apnsKey(creds)) return false;
  await requestWalletPush(env, env.APPLE_QUEUE, { wallet: "apple", subject: passSubject(passId), projectId, wantedAt: at }, now);
  return true;
}

/**
 * A template (its design, fields or images) changed at `at`: fan out when any of its passes has a
 * device (the fan-out stamps their tags, and asks for pushes when there is an APNs key).
 */
export async function requestTemplatePush(env: SubscriberEnv, projectId: string, templateId: number, at: number, now = Date.now()): Promise<boolean> {
  if (!(await loadAppleCredentials(env, projectId))) return false;
  if (!(await templateHasRegistrations(getDb(env.DB), templateId))) return false;
  await requestWalletPush(env, env.APPLE_QUEUE, { wallet: "apple", subject: templateSubject(templateId), projectId, wantedAt: at }, now);
  return true;
}

/** The subscriber the Worker entry hands to `consumePushes`. */
export function appleSubscriber(env: SubscriberEnv): ChangeSubscriber {
  return async (change: WalletChange) => {
    if (change.kind === "pass") await requestPassPush(env, change.projectId, change.passId, change.at);
    else await requestTemplatePush(env, change.projectId, change.templateId, change.at);
  };
}
