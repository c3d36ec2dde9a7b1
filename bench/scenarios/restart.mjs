// Restart mid-run: 16 senders drive listener updates over distinct passes; halfway the runtime is
// stopped and started again on the same state (requests in flight then fail or go unanswered), and
// the senders keep going against the new runtime. Then, from the public API: for every pass, its final
// version - 1 (creation is version 1) is at least the number of 200 answers it got and at most the
// requests sent for it; every 200's version is in the pass's history with the value that request
// sent; and the history holds exactly one write event per version, 1..final.
import { setTimeout as sleep } from "node:timers/promises";
import { Api } from "../lib/api.mjs";
import { round } from "../lib/stats.mjs";

const SENDERS = 16;

/** The pass's whole history, oldest first (GET /v1/pass/{id}/events pages newest first). */
async function history(api, passId) {
  const events = [];
  let cursor = "";
  do {
    const r = await api.call("GET", `/v1/pass/${passId}/events?limit=100${cursor ? `&cursor=${cursor}` : ""}`, undefined, { expect: [200] });
    events.push(...r.body.events);
    cursor = r.body.nextCursor ?? "";
  } while (cursor);
  return events.reverse();
}

/** Problems with one pass, as strings (empty when it is consistent). */
function check(name, pass, events, sent) {
  const out = [];
  const oks = sent.ok;
  if (pass.version - 1 < oks.length) out.push(`${name}: version ${pass.version} but ${oks.length} updates answered 200`);
  if (pass.version - 1 > sent.count) out.push(`${name}: version ${pass.version} but only ${sent.count} updates sent`);
  const writes = events.filter((e) => e.kind === "write");
  const versions = writes.map((e) => e.version);
  if (versions.length !== pass.version || versions.some((v, i) => v !== i + 1)) out.push(`${name}: history versions ${versions.length ? `${versions[0]}..${versions.at(-1)} (${versions.length} events)` : "none"}, expected 1..${pass.version}`);
  const byVersion = new Map(writes.map((e) => [e.version, e]));
  for (const a of oks) {
    const e = byVersion.get(a.version);
    if (!e) out.push(`${name}: the 200 for version ${a.version} (${a.when} the restart) is not in the history`);
    else if (e.changes?.fields?.points?.to !== a.points) out.push(`${name}: version ${a.version} holds points ${JSON.stringify(e.changes?.fields?.points)}, its 200 was for ${a.points}`);
  }
  if (new Set(oks.map((a) => a.version)).size !== oks.length) out.push(`${name}: two 200 answers share a version`);
  return out;
}

export async function restart(ctx) {
  const { opts } = ctx;
  const { passes: N, seconds: S } = opts.restart;
  let rt = await ctx.start("main", "restart");
  try {
    const api = await new Api(rt.url).seedProject({ actions: ["update"] });
    const ids = await api.seedPasses(N);
    const hook = api.hooks.update;
    const sent = Array.from({ length: N }, () => ({ count: 0, ok: [] }));
    const other = {};
    let base = rt.url;
    let when = "before";
    let stop = false;
    let k = 0;
    let noAnswer = 0;
    let refused = 0;
    const sender = async () => {
      while (!stop) {
        const i = k++;
        const p = i % N;
        const points = 1e9 + i;
        const at = when;
        let res;
        let body;
        try {
          res = await fetch(base + hook, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ member_id: `p-${p}`, points }) });
          body = await res.text();
        } catch (e) {
          if (e?.cause?.code === "ECONNREFUSED") {
            // The runtime is down: nothing was sent.
            refused++;
            await sleep(20);
            continue;
          }
          // Cut off by the restart: it may or may not have been applied.
          sent[p].count++;
          noAnswer++;
          continue;
        }
        sent[p].count++;
        if (res.status === 200) sent[p].ok.push({ version: JSON.parse(body).version, points, when: at === "before" ? "before" : "after" });
        else other[res.status] = (other[res.status] ?? 0) + 1;
      }
    };
    const t0 = performance.now();
    const senders = Array.from({ length: SENDERS }, sender);
    await sleep((S / 2) * 1000);
    when = "during";
    const r0 = performance.now();
    const restarted = await rt.restart();
    const restartMs = performance.now() - r0;
    ctx.recordMemory("restart", restarted.memory);
    rt = restarted.runtime;
    // The runtime comes back on another port.
    base = rt.url;
    api.base = rt.url;
    when = "after";
    await sleep((S / 2) * 1000);
    stop = true;
    await Promise.all(senders);
    const seconds = (performance.now() - t0) / 1000;

    const problems = [];
    let committed = 0;
    for (let p = 0; p < N; p++) {
      const pass = await api.getPass(`p-${p}`);
      committed += pass.version - 1;
      problems.push(...check(`p-${p}`, pass, await history(api, ids[p]), sent[p]));
    }
    const count = (f) => sent.reduce((a, s) => a + f(s), 0);
    const total = count((s) => s.count);
    const oks = count((s) => s.ok.length);
    const before = count((s) => s.ok.filter((a) => a.when === "before").length);
    const ok = problems.length === 0 ? "yes" : "NO";
    return {
      details: { passes: N, seconds, restartMs, sent: total, answered200: oks, answered200Before: before, noAnswer, refused, otherStatuses: other, committed, problems },
      rows: [
        {
          metric: `restart mid-run: versions, answers and history agree (${N} passes)`,
          value: ok,
          unit: "",
          targets: [{ equals: "yes" }],
          note: `${total} updates sent by ${SENDERS} senders over ${round(seconds, 1)} s, runtime restarted halfway (${round(restartMs, 0)} ms); ${oks} answered 200 (${before} before the restart), ${noAnswer} cut off without an answer (and ${refused} refused while the runtime was down, not counted as sent), ${Object.entries(other).map(([s, n]) => `${n} × ${s}`).join(", ") || "no other status"}; ${committed} versions committed, so ${committed - oks} landed without a 200${problems.length ? `; ⚠ ${problems.length} problems: ${problems.slice(0, 3).join("; ")}` : ""}`,
        },
      ],
    };
  } finally {
    await ctx.stop(rt, "restart");
  }
}
