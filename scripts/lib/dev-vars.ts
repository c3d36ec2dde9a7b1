/**
 * `.dev.vars` for `npm start`: made from `.dev.vars.example` when missing; when it exists (say a
 * developer first added only the Google lines the README shows), every key the example sets and the
 * file lacks is added with the example's value, and nothing already there is changed. Lines that are
 * commented out in the example (optional settings) are not added.
 */
import { appendFileSync, copyFileSync, existsSync, readFileSync } from "node:fs";

const KEY_LINE = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/;

/** The keys a dotenv-style text sets (comments and blank lines skipped). */
export function devVarKeys(text: string): Set<string> {
  const keys = new Set<string>();
  for (const line of text.split(/\r?\n/)) {
    const m = KEY_LINE.exec(line);
    if (m) keys.add(m[1]);
  }
  return keys;
}

/** The example's lines (`KEY=value`) for keys `current` does not set, in the example's order. */
export function missingDevVarLines(current: string, example: string): string[] {
  const have = devVarKeys(current);
  const out: string[] = [];
  for (const line of example.split(/\r?\n/)) {
    const m = KEY_LINE.exec(line);
    if (m && !have.has(m[1])) {
      have.add(m[1]);
      out.push(line.trim());
    }
  }
  return out;
}

/**
 * Creates `devVarsPath` from `examplePath`, or appends what it lacks. Returns what happened: `created`,
 * or the keys added (empty when nothing was missing).
 */
export function prepareDevVars(devVarsPath: string, examplePath: string): { created: true } | { created: false; added: string[] } {
  if (!existsSync(devVarsPath)) {
    copyFileSync(examplePath, devVarsPath);
    return { created: true };
  }
  const current = readFileSync(devVarsPath, "utf8");
  const lines = missingDevVarLines(current, readFileSync(examplePath, "utf8"));
  if (lines.length === 0) return { created: false, added: [] };
  const sep = current === "" || current.endsWith("\n") ? "" : "\n";
  appendFileSync(devVarsPath, `${sep}\n# Added by npm start from .dev.vars.example (keys this file did not set).\n${lines.join("\n")}\n`);
  return { created: false, added: lines.map((l) => KEY_LINE.exec(l)![1]) };
}
