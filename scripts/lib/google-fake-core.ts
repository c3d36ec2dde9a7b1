/**
 * A fake Google for passhook's Google Wallet code, as one `(Request) => Response` function, so the
 * workerd tests (through a fetch spy) and `npm run google:fake` (a loopback HTTP server) run the
 * same behaviour. It imitates what the code relies on (google-wallet.md §1, §2, §5):
 * - POST {tokenPath}: the OAuth jwt-bearer grant. The assertion is verified with the service
 *   account's public key (jose), with aud = the token URL, the wallet scope and at most 1 h
 *   lifetime; errors are OAuth JSON (`{"error": "invalid_grant", ...}`).
 * - /walletobjects/v1/{type}[/{id}[/addMessage]]: Bearer tokens required (401 otherwise); insert
 *   (409 on a duplicate id, 404 when an object's class is missing), get (404), update (PUT), patch
 *   (top-level merge, null clears, arrays replaced), addMessage (at most 10), list by classId with
 *   `maxResults`/`token`. Errors use Google's JSON error shape.
 * - GET {keysPath}: the callback root keys document, with Cache-Control.
 * Failures can be injected per request (`failNext`). Nothing here is production code.
 */
import { decodeJwt, jwtVerify } from "jose";

export const WALLET_SCOPE = "https://www.googleapis.com/auth/wallet_object.issuer";
const TYPES = new Set(["loyaltyClass", "loyaltyObject", "offerClass", "offerObject", "eventTicketClass", "eventTicketObject", "genericClass", "genericObject", "giftCardClass", "giftCardObject"]);
const ID = /^\d+\.[A-Za-z0-9._-]+$/;

export interface FakeRequestLog {
  method: string;
  path: string;
  body: unknown;
  status: number;
}

export interface FakeGoogleOptions {
  /** The token URL the assertions must name as `aud` (the URL passhook is configured with). */
  tokenUrl: string;
  /** Service account e-mail -> its public key (CryptoKey or what jose accepts). */
  publicKeys: Map<string, CryptoKey>;
  /** The callback root keys document to serve. */
  rootKeys?: unknown;
  tokenPath?: string;
  keysPath?: string;
  /** Seconds; Google answers 3599. */
  tokenLifetime?: number;
  now?: () => number;
  log?: (line: string) => void;
}

type Stored = Record<string, unknown>;

function googleError(status: number, message: string, reason: string, statusText: string): Response {
  return Response.json({ error: { code: status, message, errors: [{ message, domain: "global", reason }], status: statusText } }, { status });
}

export function createFakeGoogle(opts: FakeGoogleOptions) {
  const now = opts.now ?? (() => Date.now());
  const tokenPath = opts.tokenPath ?? "/token";
  const keysPath = opts.keysPath ?? "/gp/m/issuer/keys";
  const store = new Map<string, Map<string, Stored>>();
  const tokens = new Map<string, number>();
  const requests: FakeRequestLog[] = [];
  const failures: { match: (method: string, path: string) => boolean; respond: () => Response }[] = [];
  let tokenCount = 0;

  const collection = (type: string) => {
    let c = store.get(type);
    if (!c) store.set(type, (c = new Map()));
    return c;
  };

  async function token(req: Request): Promise<Response> {
    const form = new URLSearchParams(new TextDecoder().decode(await req.arrayBuffer()));
    if (form.get("grant_type") !== "urn:ietf:params:oauth:grant-type:jwt-bearer") {
      return Response.json({ error: "unsupported_grant_type", error_description: "Invalid grant_type." }, { status: 400 });
    }
    const assertion = form.get("assertion") ?? "";
    let iss: unknown;
    try {
      iss = decodeJwt(assertion).iss;
    } catch {
      return Response.json({ error: "invalid_grant", error_description: "Invalid JWT." }, { status: 400 });
    }
    const key = typeof iss === "string" ? opts.publicKeys.get(iss) : undefined;
    if (!key) return Response.json({ error: "invalid_grant", error_description: "Invalid grant: account not found" }, { status: 400 });
    try {
      const { payload, protectedHeader } = await jwtVerify(assertion, key, {
        algorithms: ["RS256"],
        audience: opts.tokenUrl,
        issuer: iss as string,
        currentDate: new Date(now()),
        requiredClaims: ["iat", "exp", "scope"],
      });
      if (protectedHeader.typ !== "JWT") throw new Error("typ");
      if (payload.exp! - payload.iat! > 3600) return Response.json({ error: "invalid_grant", error_description: "Invalid JWT: Token must be a short-lived token (60 minutes)" }, { status: 400 });
      if (!String(payload.scope).split(" ").includes(WALLET_SCOPE)) return Response.json({ error: "invalid_scope", error_description: "Invalid OAuth scope." }, { status: 400 });
    } catch {
      return Response.json({ error: "invalid_grant", error_description: "Invalid JWT Signature." }, { status: 400 });
    }
    const lifetime = opts.tokenLifetime ?? 3599;
    const access = `ya29.fake-${++tokenCount}-${crypto.randomUUID()}`;
    tokens.set(access, now() + lifetime * 1000);
    return Response.json({ access_token: access, expires_in: lifetime, token_type: "Bearer" });
  }

  async function wallet(req: Request, parts: string[], url: URL): Promise<Response> {
    const auth = req.headers.get("authorization") ?? "";
    const exp = tokens.get(auth.replace(/^Bearer /, ""));
    if (!auth.startsWith("Bearer ") || exp === undefined || exp <= now()) {
      return googleError(401, "Request had invalid authentication credentials.", "authError", "UNAUTHENTICATED");
    }
    const [type, rawId, action] = parts;
    if (!TYPES.has(type)) return googleError(404, "Not Found", "notFound", "NOT_FOUND");
    const items = collection(type);
    const noun = type.endsWith("Class") ? "Wallet Object Class" : "Wallet Object";
    const body = req.method === "GET" ? null : await req.json().catch(() => undefined);
    if (req.method !== "GET" && (body === undefined || typeof body !== "object" || body === null || Array.isArray(body))) {
      return googleError(400, "Invalid JSON payload received.", "badRequest", "INVALID_ARGUMENT");
    }
    const b = body as Stored;

    if (rawId === undefined) {
      if (req.method === "GET") {
        const classId = url.searchParams.get("classId");
        const all = [...items.values()].filter((o) => !classId || o.classId === classId);
        const max = Number(url.searchParams.get("maxResults") ?? all.length) || all.length;
        const start = Number(url.searchParams.get("token") ?? 0) || 0;
        const page = all.slice(start, start + max);
        const next = start + max < all.length ? String(start + max) : undefined;
        return Response.json({ resources: page, pagination: { resultsPerPage: page.length, ...(next ? { nextPageToken: next } : {}) } });
      }
      if (req.method !== "POST") return googleError(405, "Method not allowed", "badRequest", "INVALID_ARGUMENT");
      const id = b.id;
      if (typeof id !== "string" || !ID.test(id)) return googleError(400, `Invalid resource ID: ${String(id)}`, "invalidResource", "INVALID_ARGUMENT");
      if (items.has(id)) return googleError(409, `${noun} ${id} already exists.`, "alreadyExists", "ALREADY_EXISTS");
      if (type.endsWith("Object")) {
        const classes = collection(type.replace(/Object$/, "Class"));
        if (typeof b.classId !== "string" || !classes.has(b.classId)) return googleError(404, `Class ${String(b.classId)} not found.`, "classNotFound", "NOT_FOUND");
      }
      const stored = type.endsWith("Object") ? { hasUsers: false, ...b } : { ...b };
      items.set(id, stored);
      return Response.json(stored);
    }

    const id = decodeURIComponent(rawId);
    const current = items.get(id);
    if (!current) return googleError(404, `${noun} ${id} not found.`, "resourceNotFound", "NOT_FOUND");
    if (action === "addMessage" && req.method === "POST") {
      const messages = Array.isArray(current.messages) ? [...(current.messages as unknown[])] : [];
      if (messages.length >= 10) return googleError(400, "An object can hold at most 10 messages.", "badRequest", "INVALID_ARGUMENT");
      messages.push(b.message);
      current.messages = messages;
      return Response.json({ resource: current });
    }
    if (action !== undefined) return googleError(404, "Not Found", "notFound", "NOT_FOUND");
    if (req.method === "GET") return Response.json(current);
    if (req.method === "PUT") {
      items.set(id, { ...(type.endsWith("Object") ? { hasUsers: current.hasUsers } : {}), ...b, id });
      return Response.json(items.get(id));
    }
    if (req.method === "PATCH") {
      for (const [k, v] of Object.entries(b)) {
        if (k === "id" || k === "hasUsers") continue;
        if (v === null) delete current[k];
        else current[k] = v;
      }
      return Response.json(current);
    }
    return googleError(405, "Method not allowed", "badRequest", "INVALID_ARGUMENT");
  }

  async function handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const path = url.pathname;
    const logBody = req.method === "GET" ? null : new TextDecoder().decode(await req.clone().arrayBuffer());
    const injected = failures.findIndex((f) => f.match(req.method, path));
    let res: Response;
    if (injected >= 0) {
      res = failures.splice(injected, 1)[0].respond();
    } else if (path === tokenPath && req.method === "POST") {
      res = await token(req);
    } else if (path === keysPath && req.method === "GET") {
      res = opts.rootKeys ? Response.json(opts.rootKeys, { headers: { "cache-control": "public, max-age=300" } }) : new Response("no keys", { status: 404 });
    } else if (path.startsWith("/walletobjects/v1/")) {
      res = await wallet(req, path.slice("/walletobjects/v1/".length).split("/"), url);
    } else if (path.startsWith("/_fake/objects/") && path.endsWith("/users") && req.method === "POST") {
      // Demo hook: pretend a holder saved the object (sets hasUsers, as Google does).
      const id = decodeURIComponent(path.split("/")[3]);
      const found = [...store.entries()].find(([t, c]) => t.endsWith("Object") && c.has(id));
      if (found) found[1].get(id)!.hasUsers = true;
      res = found ? Response.json({ id, hasUsers: true }) : new Response("unknown object", { status: 404 });
    } else {
      res = new Response("not found", { status: 404 });
    }
    let parsed: unknown = logBody;
    try {
      parsed = logBody ? JSON.parse(logBody) : null;
    } catch {
      /* form bodies stay text */
    }
    requests.push({ method: req.method, path: path + url.search, body: parsed, status: res.status });
    opts.log?.(describe(req.method, path + url.search, parsed, res.status));
    return res;
  }

  return {
    handle,
    store,
    requests,
    /** Answers the next matching request with `respond()` instead of the normal behaviour. */
    failNext(method: string, pathPattern: RegExp, respond: () => Response) {
      failures.push({ match: (m, p) => m === method && pathPattern.test(p), respond });
    },
    /** Revokes every issued token (the next Wallet call answers 401). */
    revokeTokens() {
      tokens.clear();
    },
    object(type: string, id: string): Stored | undefined {
      return store.get(type)?.get(id);
    },
    googleError,
  };
}

export type FakeGoogle = ReturnType<typeof createFakeGoogle>;

/** One log line: method, path, status, and the fields a newcomer wants to see (state, id). */
function describe(method: string, path: string, body: unknown, status: number): string {
  const b = body && typeof body === "object" ? (body as Record<string, unknown>) : null;
  const notes: string[] = [];
  if (b?.id) notes.push(`id=${b.id}`);
  if (b && "state" in b) notes.push(`state=${b.state}`);
  if (b?.message && typeof b.message === "object") notes.push(`message=${JSON.stringify(b.message)}`);
  if (path.includes("token") && typeof body === "string") notes.push("(assertion)");
  return `${method} ${path} -> ${status}${notes.length ? "  " + notes.join(" ") : ""}`;
}
