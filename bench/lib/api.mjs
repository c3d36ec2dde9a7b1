// Seeds state through passhook's public HTTP API only (operator token, then HTTP Basic), so the bench
// keeps working whatever the internals look like.
import { pool } from "./load.mjs";
import { SECRETS } from "./secrets.mjs";

export const TEMPLATE = {
  name: "Bench loyalty card",
  passType: "storeCard",
  fields: [
    { key: "name", label: "Member", type: "text", required: true },
    { key: "points", label: "Points", type: "number", default: 0 },
    { key: "tier", label: "Tier", type: "text", default: "bronze" },
  ],
};

export class Api {
  constructor(base) {
    this.base = base;
    this.auth = null;
  }

  async call(method, path, body, { auth = this.auth, expect } = {}) {
    const res = await fetch(this.base + path, {
      method,
      headers: { ...(auth ? { authorization: auth } : {}), ...(body !== undefined ? { "content-type": "application/json" } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    if (expect && !expect.includes(res.status)) throw new Error(`${method} ${path.replace(/\/hooks\/.*/, "/hooks/…")}: ${res.status} ${text.slice(0, 300)}`);
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }

  /** A project, its key as HTTP Basic, the bench template, and one integration per `actions`. */
  async seedProject({ actions = ["update"], name = "Bench project" } = {}) {
    const p = await this.call("POST", "/v1/projects", { name }, { auth: `Bearer ${SECRETS.ADMIN_TOKEN}`, expect: [201] });
    this.projectId = p.body.id;
    this.auth = `Basic ${Buffer.from(`${p.body.apiKey.key}:${p.body.apiKey.secret}`).toString("base64")}`;
    const t = await this.call("POST", `/v1/project/${this.projectId}/templates`, TEMPLATE, { expect: [201] });
    this.templateId = t.body.id;
    this.hooks = {};
    for (const action of actions) {
      const fieldMapping = action === "create" ? { "pass-id": "member_id", name: "full_name" } : { "pass-id": "member_id" };
      const i = await this.call("POST", `/v1/project/${this.projectId}/integrations`, { name: `bench ${action}`, templateId: this.templateId, action, fieldMapping }, { expect: [201] });
      this.hooks[action] = new URL(i.body.listenerUrl).pathname;
    }
    return this;
  }

  /** `count` passes with externalIds `${prefix}0` …, through the admin API; returns their ids. */
  async seedPasses(count, { prefix = "p-", concurrency = 8 } = {}) {
    const ids = await pool(Array.from({ length: count }, (_, i) => i), concurrency, async (i) => {
      const r = await this.call("POST", `/v1/template/${this.templateId}/pass`, { externalId: `${prefix}${i}`, fields: { name: `Member ${i}`, points: 0 } }, { expect: [201] });
      return r.body.id;
    });
    return ids;
  }

  getPass(externalId) {
    return this.call("GET", `/v1/pass/template/${this.templateId}/id/${encodeURIComponent(externalId)}`, undefined, { expect: [200] }).then((r) => r.body);
  }
}
