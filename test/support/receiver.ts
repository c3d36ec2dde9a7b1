/**
 * A customer's callback server, mocked at the fetch boundary (the only thing outside our system the
 * callbacks pipeline talks to). Records every request; the handler decides each answer.
 */
import { vi } from "vitest";

export interface Received {
  url: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  json: Record<string, unknown>;
}

export type Answer = Response | Promise<Response>;

export function mockReceiver(answer: (req: Received, n: number) => Answer = () => new Response("ok")) {
  const calls: Received[] = [];
  const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input as RequestInfo, init);
    const body = await req.text();
    const rec: Received = {
      url: req.url,
      path: new URL(req.url).pathname,
      headers: Object.fromEntries(req.headers),
      body,
      json: body ? JSON.parse(body) : {},
    };
    calls.push(rec);
    return answer(rec, calls.length);
  });
  return { calls, spy };
}

export async function until(check: () => boolean | Promise<boolean>, timeout = 10_000) {
  await vi.waitUntil(check, { timeout, interval: 20 });
}
