/**
 * A minimal browser for dashboard tests inside workerd: a cookie jar, same-origin form posts carrying
 * the page's CSRF token, and manual redirects (so a test sees each 303). Requests go through the real
 * Worker entry, or through an app built with other dashboard options.
 */
import { env, exports } from "cloudflare:workers";
import { BASE } from "./http";

export type Fetcher = (url: string, init: RequestInit) => Promise<Response>;
const entry: Fetcher = (url, init) => exports.default.fetch(url, init);

export interface Page {
  status: number;
  html: string;
  headers: Headers;
  location: string | null;
}

export class DashboardClient {
  readonly jar = new Map<string, string>();
  /** The CSRF token of the last page that had one. */
  csrf = "";
  constructor(
    readonly ip = `198.51.100.${Math.floor(Math.random() * 250) + 1}`,
    private readonly send: Fetcher = entry,
  ) {}

  private remember(res: Response) {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === "" || attrs.some((a) => /^\s*max-age=0\s*$/i.test(a))) this.jar.delete(name);
      else this.jar.set(name, value);
    }
  }

  cookieHeader(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  async request(path: string, init: RequestInit & { headers?: Record<string, string> } = {}): Promise<Page> {
    const headers: Record<string, string> = { "cf-connecting-ip": this.ip, ...(init.headers ?? {}) };
    if (this.jar.size) headers.cookie = this.cookieHeader();
    const res = await this.send(`${BASE}${path}`, { ...init, headers, redirect: "manual" });
    this.remember(res);
    const html = await res.text();
    const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
    if (token) this.csrf = token;
    return { status: res.status, html, headers: res.headers, location: res.headers.get("location") };
  }

  get(path: string) {
    return this.request(path);
  }

  /** A same-origin form post with the current CSRF token unless the fields say otherwise. */
  post(path: string, fields: Record<string, string> = {}, headers: Record<string, string> = {}) {
    const body = new URLSearchParams({ _csrf: this.csrf, ...fields });
    return this.request(path, { method: "POST", body: body.toString(), headers: { "content-type": "application/x-www-form-urlencoded", origin: BASE, ...headers } });
  }

  async signIn(key: string, secret: string): Promise<Page> {
    await this.get("/dashboard/sign-in");
    return this.post("/dashboard/sign-in", { key, secret });
  }
}

/** Text of the page with tags removed, for assertions on what a person reads. */
export function text(html: string): string {
  return html.replace(/<[^>]+>/g, " ").replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&").replace(/\s+/g, " ");
}

export { env };
