// CPU profile of the Worker's own isolate through the V8 inspector that Miniflare proxies
// (`unsafeInspectorProxy`), folded by source file with the bundle's source map: how much of a request's
// CPU is passhook's code, hono, drizzle, zod …, and how much is left to the runtime and the local
// binding emulators (D1, queues, rate limiter), which run outside this isolate.
import { readFileSync } from "node:fs";

/** Connects to the runtime's inspector and starts sampling; `stop()` returns the V8 profile. */
export async function startProfile(rt, { intervalUs = 250 } = {}) {
  const list = await (await fetch(`http://127.0.0.1:${rt.inspectorPort}/json`)).json();
  // Miniflare's inspector proxy wants an Origin it knows (it serves DevTools).
  const ws = new WebSocket(list[0].webSocketDebuggerUrl, { headers: { origin: "http://localhost" } });
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error("could not connect to the Worker's inspector"));
  });
  let id = 0;
  const pending = new Map();
  ws.onmessage = (e) => {
    const m = JSON.parse(e.data);
    // workerd answers Profiler.enable / start with the request echoed back (no `result`): any message
    // with the id is the answer.
    if (m.id && pending.has(m.id)) {
      pending.get(m.id)(m);
      pending.delete(m.id);
    }
  };
  const send = (method, params = {}) =>
    new Promise((resolve) => {
      const i = ++id;
      pending.set(i, resolve);
      ws.send(JSON.stringify({ id: i, method, params }));
    });
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: intervalUs });
  await send("Profiler.start");
  return {
    async stop() {
      const m = await send("Profiler.stop");
      ws.close();
      if (!m.result?.profile) throw new Error(`Profiler.stop failed: ${JSON.stringify(m.error ?? m)}`);
      return m.result.profile;
    },
  };
}

// --- source maps (VLQ), just enough to map a function's start to its source file ----------------

const B64 = Object.fromEntries([..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"].map((c, i) => [c, i]));

function decodeMappings(mappings) {
  const lines = [];
  let src = 0;
  for (const line of mappings.split(";")) {
    const segs = [];
    let col = 0;
    for (const seg of line.split(",")) {
      if (!seg) continue;
      const vals = [];
      let value = 0;
      let shift = 0;
      for (const ch of seg) {
        const d = B64[ch];
        value += (d & 31) << shift;
        if (d & 32) shift += 5;
        else {
          vals.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      col += vals[0];
      if (vals.length > 1) src += vals[1];
      segs.push([col, vals.length > 1 ? src : -1]);
      // Source line and column (vals[2], vals[3]) are not needed: files are enough here.
    }
    lines.push(segs);
  }
  return lines;
}

function sourceLookup(bundlePath) {
  let map;
  try {
    map = JSON.parse(readFileSync(`${bundlePath}.map`, "utf8"));
  } catch {
    return () => null;
  }
  const lines = decodeMappings(map.mappings);
  return (line, col) => {
    const segs = lines[line];
    if (!segs) return null;
    let found = null;
    for (const s of segs) {
      if (s[0] > col) break;
      found = s;
    }
    return found && found[1] >= 0 ? map.sources[found[1]] : null;
  };
}

function groupOf(source, frame) {
  if (frame.functionName.startsWith("(")) return frame.functionName; // (garbage collector), (program)
  if (frame.url.startsWith("cloudflare-internal:")) return `workerd binding client (${frame.url.slice("cloudflare-internal:".length)})`;
  if (!frame.url) return "native runtime calls (fetch, RPC, queue send …)";
  if (!source) return frame.url;
  const s = source.replace(/\\/g, "/");
  const nm = s.lastIndexOf("node_modules/");
  if (nm >= 0) {
    const parts = s.slice(nm + "node_modules/".length).split("/");
    // drizzle-orm ships source maps pointing at ../src/, so its files come out as node_modules/src/.
    const pkg = parts[0] === "src" ? "drizzle-orm" : parts[0].startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0];
    return pkg === "wrangler" ? "wrangler's injected middleware" : pkg;
  }
  const srcAt = s.lastIndexOf("src/");
  if (srcAt >= 0) {
    const parts = s.slice(srcAt).split("/");
    return parts.length > 2 ? `passhook src/${parts[1]}` : `passhook ${parts.join("/")}`;
  }
  if (s.includes("bench/")) return "bench wrapper";
  return s;
}

/**
 * Self time per group and the top functions, per request. `requests`: how many requests the profile
 * covered. Each sample counts as one sampling interval: workerd's sampler only ticks while this
 * isolate runs, so the gaps between samples (timeDeltas) include time spent elsewhere and are not used.
 * Idle samples are left out.
 */
export function summarizeProfile(profile, bundlePath, requests, intervalUs = 250) {
  const lookup = sourceLookup(bundlePath);
  const bundleName = bundlePath.split("/").pop();
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const hits = new Map();
  for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  const groups = {};
  const fns = {};
  let busy = 0;
  for (const [id, n] of hits) {
    const f = nodes.get(id).callFrame;
    if (f.functionName === "(idle)" || f.functionName === "(root)") continue;
    busy += n;
    const source = f.url.endsWith(bundleName) ? lookup(f.lineNumber, f.columnNumber) : null;
    const g = groupOf(source, f);
    groups[g] = (groups[g] ?? 0) + n;
    const where = source ? source.replace(/^(\.\.\/)+/, "") : g;
    const key = `${f.functionName || "(anonymous)"} (${where})`;
    fns[key] = (fns[key] ?? 0) + n;
  }
  const per = (n) => Number(((n * intervalUs) / 1000 / requests).toFixed(3));
  return {
    requests,
    samples: profile.samples.length,
    busySamples: busy,
    busyMsPerRequest: per(busy),
    groups: Object.entries(groups)
      .sort((a, b) => b[1] - a[1])
      .map(([group, n]) => ({ group, msPerRequest: per(n), share: Number((n / busy).toFixed(3)) })),
    topFunctions: Object.entries(fns)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15)
      .map(([fn, n]) => ({ fn, msPerRequest: per(n), share: Number((n / busy).toFixed(3)) })),
  };
}
