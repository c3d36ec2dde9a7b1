// The results table (Markdown) and the full record (JSON).
import { writeFileSync } from "node:fs";
import path from "node:path";

const pct = (x) => (x === null || !Number.isFinite(x) ? "—" : x >= 0.1 ? `${(x * 100).toFixed(1)} %` : `${(x * 100).toFixed(2)} %`);

function numeric(row) {
  return typeof row.value === "number" ? row.value : null;
}

/** Evaluates a row's targets against the ceilings of this run. */
export function judge(row, ceilings) {
  const results = [];
  for (const t of row.targets ?? []) {
    const v = t.field ? row[t.field] : numeric(row) ?? row.value;
    let text;
    let ok;
    if (t.minOf) {
      const base = ceilings[t.minOf];
      const ratio = base ? v / base : null;
      ok = ratio !== null && ratio >= t.min;
      text = `≥ ${t.min >= 0.1 && t.min < 1 && Math.abs(t.min - 2 / 3) < 1e-9 ? "2/3" : pct(t.min)} of ${t.minOf === "hello" ? "hello-world" : "floor"}`;
    } else if (t.equals !== undefined) {
      ok = v === t.equals;
      text = `= ${t.equals}`;
    } else if (t.min !== undefined) {
      ok = v >= t.min;
      text = `≥ ${t.min}`;
    } else if (t.max !== undefined) {
      ok = v !== null && v <= t.max;
      text = `≤ ${t.max}${t.field ? ` (${t.field})` : ""}${t.moonshot !== undefined ? ` (moonshot ${t.moonshot})` : ""}`;
    }
    // A target may word itself (`text`) when its bound is computed from the same run.
    results.push({ text: t.text ?? text, ok });
  }
  return results;
}

export function render({ rows, ceilings, machine, load, date, options, durationS }) {
  const lines = [];
  lines.push(`# passhook bench results`, ``);
  lines.push(`${date} · ${options.quick ? "quick (short) run" : "full run"} · ${durationS.toFixed(0)} s · scenarios: ${options.scenarios.join(", ")}`, ``);
  lines.push(`Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.ramGiB} GiB RAM, ${machine.kernel}; Node ${machine.node}, ${machine.workerd}, miniflare ${machine.miniflare}, wrangler ${machine.wrangler}, ${machine.wrk ?? "wrk ?"}.`, ``);
  lines.push(
    `Load: load average ${load.start.loadavg.join(" / ")} at the start, ${load.end.loadavg.join(" / ")} at the end; the machine's CPUs were ${load.machineCpuBusyPercent} % busy over the run (this bench included).` +
      ` Other processes (not this bench) used ${load.otherProcessesCpuPercent} % of the machine's CPU meanwhile; the busiest: ${load.busiestOthers.map((p) => `${p.comm} ${p.cpuSeconds} s`).join(", ") || "none"}.`,
    ``,
  );
  if (options.sharedNote) lines.push(`**${options.sharedNote}**`, ``);
  lines.push(`Ratios are to this run's ceilings: hello-world ${ceilings.hello ? ceilings.hello.toFixed(0) : "—"} req/s, design floor ${ceilings.floor ? ceilings.floor.toFixed(0) : "—"} req/s.`, ``);
  lines.push(`| scenario | metric | value | unit | vs hello-world | vs floor | target | result |`, `| --- | --- | --- | --- | --- | --- | --- | --- |`);
  for (const r of rows) {
    const v = numeric(r);
    // Throughput rows: value / ceiling. CPU rows: the ceiling's CPU per request / this one's.
    const ratioH = v === null ? "" : r.ratio && ceilings.hello ? pct(v / ceilings.hello) : r.cpuRatio && ceilings.helloCpuMs ? `${pct(ceilings.helloCpuMs / v)} (CPU)` : "";
    const ratioF = v === null ? "" : r.ratio && ceilings.floor ? pct(v / ceilings.floor) : r.cpuRatio && ceilings.floorCpuMs ? `${pct(ceilings.floorCpuMs / v)} (CPU)` : "";
    const verdicts = judge(r, ceilings);
    r.verdicts = verdicts;
    const target = verdicts.map((x) => x.text).join("; ");
    const result = verdicts.length ? (verdicts.every((x) => x.ok) ? "pass" : "**FAIL**") : "";
    const value = `${r.value ?? "—"}${r.runs && r.runs.length > 1 ? ` (runs ${r.runs.join(", ")})` : ""}${r.errors ? ` ⚠ ${r.errors} errors` : ""}`;
    const others = [r.others ?? []].flat();
    const note = [r.note, others.length ? `other processes took ${others.join(", ")} % of the CPU meanwhile` : null].filter(Boolean).join("; ");
    lines.push(`| ${r.scenario} | ${r.metric}${note ? `<br><sub>${note}</sub>` : ""} | ${value} | ${r.unit ?? ""} | ${ratioH} | ${ratioF} | ${target} | ${result} |`);
  }
  lines.push(``, `How to read this: bench/README.md. Raw numbers per run: the JSON file beside this one.`, ``);
  return lines.join("\n");
}

export function write(dir, base, md, json) {
  writeFileSync(path.join(dir, `${base}.md`), md);
  writeFileSync(path.join(dir, `${base}.json`), JSON.stringify(json, null, 2) + "\n");
}
