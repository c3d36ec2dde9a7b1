import path from "node:path";

export const ROOT = path.resolve(import.meta.dirname, "..", "..");
export const BENCH = path.join(ROOT, "bench");
export const BUILD = path.join(BENCH, ".build");
export const STATE = path.join(BENCH, ".state");
export const RESULTS = path.join(BENCH, "results");
export const BIN = path.join(ROOT, "node_modules", ".bin");
