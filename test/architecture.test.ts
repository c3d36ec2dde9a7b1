/**
 * The house dependency rule (style.md "One-way dependency rule"), checked on the sources themselves:
 * routes and consumers -> domain -> db -> lib; cross-folder imports only through a folder's index.
 */
import { describe, expect, it } from "vitest";

const sources = import.meta.glob(["../src/**/*.ts", "../src/**/*.tsx"], { query: "?raw", import: "default", eager: true }) as Record<string, string>;

interface Edge {
  from: string; // e.g. "listener/receive.ts"
  fromDir: string; // "listener"
  to: string; // resolved path under src, e.g. "passes/index" or "db/queries/passes"
  toDir: string;
  spec: string;
}

function edges(): Edge[] {
  const out: Edge[] = [];
  for (const [file, text] of Object.entries(sources)) {
    const from = file.replace("../src/", "");
    const fromDir = from.includes("/") ? from.split("/")[0] : "(root)";
    for (const m of text.matchAll(/^\s*(?:import|export)[^"']*from\s+["']([^"']+)["']/gm)) {
      const spec = m[1];
      if (!spec.startsWith(".")) {
        out.push({ from, fromDir, to: spec, toDir: `npm:${spec}`, spec });
        continue;
      }
      const parts = from.split("/").slice(0, -1);
      for (const seg of spec.split("/")) {
        if (seg === "..") parts.pop();
        else if (seg !== ".") parts.push(seg);
      }
      const to = parts.join("/");
      out.push({ from, fromDir, to, toDir: to.includes("/") ? to.split("/")[0] : to, spec });
    }
  }
  return out;
}

const DOMAIN = ["api", "listener", "callbacks", "passes", "projects", "db", "lib"];
/** What each folder may import from other src folders. */
const ALLOWED: Record<string, string[]> = {
  lib: [],
  db: ["lib"],
  passes: ["db", "lib"],
  projects: ["db", "lib"],
  listener: ["passes", "projects", "db", "lib"],
  callbacks: ["passes", "projects", "db", "lib"],
  apple: ["passes", "projects", "db", "lib"],
  google: ["passes", "projects", "db", "lib"],
  api: ["passes", "projects", "listener", "callbacks", "apple", "google", "lib", "env"],
  // An edge like api: domain doors and lib, never api, apple, google or another edge's routes/consumer.
  dashboard: ["passes", "projects", "listener", "callbacks", "lib", "env"],
};
/** Folders entered from outside only through their index.ts. */
const DOORS = ["passes", "projects", "listener", "callbacks", "apple", "google"];

describe("dependency direction", () => {
  it("reads the sources", () => {
    expect(Object.keys(sources).length).toBeGreaterThan(30);
  });

  it("knows every folder under src, so none escapes the rule", () => {
    const dirs = new Set(Object.keys(sources).map((f) => f.replace("../src/", "")).filter((f) => f.includes("/")).map((f) => f.split("/")[0]));
    expect([...dirs].filter((d) => !(d in ALLOWED)).sort()).toEqual([]);
  });

  it("keeps every folder to the folders it may import", () => {
    const bad = edges()
      .filter((e) => e.fromDir in ALLOWED && !e.toDir.startsWith("npm:") && e.toDir !== e.fromDir)
      .filter((e) => !ALLOWED[e.fromDir].includes(e.toDir))
      // Every routes.ts may use the Hono env types.
      .filter((e) => !(e.from.endsWith("routes.ts") && e.to === "env"))
      .map((e) => `${e.from} -> ${e.spec}`);
    expect(bad).toEqual([]);
  });

  it("enters another domain folder only through its index", () => {
    const bad = edges()
      .filter((e) => e.fromDir !== e.toDir && DOORS.includes(e.toDir))
      .filter((e) => e.to !== e.toDir && e.to !== `${e.toDir}/index`)
      .map((e) => `${e.from} -> ${e.spec}`);
    expect(bad).toEqual([]);
  });

  it("keeps the dashboard off other edges' routes and consumers", () => {
    const bad = edges()
      .filter((e) => e.fromDir === "dashboard" && e.toDir !== "dashboard" && (e.to.endsWith("/routes") || e.to.endsWith("/consumer") || ["api", "apple", "google"].includes(e.toDir)))
      .map((e) => `${e.from} -> ${e.spec}`);
    expect(bad).toEqual([]);
    expect(Object.keys(sources).some((f) => f.endsWith(".tsx"))).toBe(true);
  });

  it("keeps drizzle out of routes and lib", () => {
    const bad = edges()
      .filter((e) => (e.fromDir === "api" || e.fromDir === "lib" || e.fromDir === "dashboard" || /routes\.tsx?$/.test(e.from)) && e.spec.startsWith("drizzle-orm"))
      .map((e) => `${e.from} -> ${e.spec}`);
    expect(bad).toEqual([]);
  });

  it("lets nothing import the Worker entry", () => {
    expect(edges().filter((e) => e.to === "index").map((e) => e.from)).toEqual([]);
    expect(DOMAIN.every((d) => Object.keys(sources).some((f) => f.startsWith(`../src/${d}/`)))).toBe(true);
  });
});
