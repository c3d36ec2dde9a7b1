/**
 * A customer's callback server, mocked at the fetch boundary (the only thing outside our system the
 * callbacks pipeline talks to). Records every request; the handler decides each answer.
 *
 * It behaves like the real `fetch` where it matters: a 3xx with a Location is followed (as a new
 * request, recorded like any other) unless the caller asked for `redirect: "manual"`, and an abort
 * signal rejects a request that is still waiting for its answer.
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

const MAX_REDIRECTS = 20;

export function mockReceiver(answer: (req: Received, n: number) => Answer = () => new Response("ok")) {
  const calls: Received[] = [];
  const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    let req = new Request(input as RequestInfo, init);
    for (let hop = 0; ; hop++) {
      const res = await answerOne(req);
      const location = res.headers.get("location");
      if (res.status < 300 || res.status >= 400 || !location || init?.redirect === "manual") return res;
      if (init?.redirect === "error" || hop >= MAX_REDIRECTS) throw new TypeError("redirect refused");
      // Like fetch: 303 (and 301/302 after a POST) turn into a GET without a body.
      const toGet = res.status === 303 || ((res.status === 301 || res.status === 302) && req.method === "POST");
      req = new Request(new URL(location, req.url), { method: toGet ? "GET" : req.method, headers: req.headers, body: toGet ? null : await req.clone().text(), signal: init?.signal });
    }
  });

  async function answerOne(req: Request): Promise<Response> {
    const body = req.method === "GET" || req.method === "HEAD" ? "" : await req.clone().text();
    const rec: Received = {
      url: req.url,
      path: new URL(req.url).pathname,
      headers: Object.fromEntries(req.headers),
      body,
      json: body ? safeJson(body) : {},
    };
    calls.push(rec);
    const signal = req.signal;
    if (signal.aborted) throw signal.reason;
    // An abort while the answer is pending rejects the request, as a real fetch does.
    return Promise.race([
      Promise.resolve(answer(rec, calls.length)),
      new Promise<never>((_, reject) => signal.addEventListener("abort", () => reject(signal.reason), { once: true })),
    ]);
  }

  return { calls, spy };
}

function safeJson(body: string): Record<string, unknown> {
  try {
    return JSON.parse(body);
  } catch {
    return {};
  }
}

export async function until(check: () => boolean | Promise<boolean>, timeout = 30_000) {
  await vi.waitUntil(check, { timeout, interval: 20 });
}
