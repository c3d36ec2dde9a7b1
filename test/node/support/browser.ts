/**
 * Debian's Chromium driven by playwright-core, and axe-core run inside a page. The flags keep Chromium
 * from reaching for the network (the machine has none beyond the package registries) and from
 * needing a sandbox or a GPU; each launch gets a fresh profile directory.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface LaunchedBrowser {
  browser: BrowserContext;
  close(): Promise<void>;
}

/** A persistent context on a fresh profile (Chromium takes --user-data-dir only this way). */
export async function launchBrowser(): Promise<LaunchedBrowser> {
  const profile = mkdtempSync(path.join(tmpdir(), "passhook-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: FLAGS,
    headless: true,
    viewport: { width: 1280, height: 800 },
  });
  return {
    browser: context,
    close: async () => {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export type { Browser, BrowserContext, Page };

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const jsQrSource = readFileSync(require.resolve("jsqr/dist/jsQR.js"), "utf8");

/** Decodes the QR code drawn by the first `selector` SVG in the page with jsQR (an independent reader). */
export async function decodeSvgQr(page: Page, selector: string): Promise<string | null> {
  await page.evaluate(jsQrSource);
  return page.evaluate(async (sel) => {
    const svg = document.querySelector(sel);
    if (!svg) return null;
    const img = new Image();
    img.src = `data:image/svg+xml;base64,${btoa(new XMLSerializer().serializeToString(svg))}`;
    await img.decode();
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = 400;
    const g = canvas.getContext("2d")!;
    g.drawImage(img, 0, 0, 400, 400);
    const { data, width, height } = g.getImageData(0, 0, 400, 400);
    const jsQR = (globalThis as unknown as { jsQR: (d: Uint8ClampedArray, w: number, h: number) => { data: string } | null }).jsQR;
    return jsQR(data, width, height)?.data ?? null;
  }, selector);
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/** Runs axe-core (WCAG 2.x A and AA rules and best practices) and returns the serious and critical violations. */
export async function seriousA11yViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<any> } }).axe;
    const r = await axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] } });
    return r.violations.map((v: any) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n: any) => n.target.join(" ")) }));
  });
  return (result as AxeViolation[]).filter((v) => v.impact === "serious" || v.impact === "critical");
}
