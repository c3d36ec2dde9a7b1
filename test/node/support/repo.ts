/** Paths in the repository, for tests that run on the host. */
import path from "node:path";

export const repoRoot = path.resolve(import.meta.dirname, "..", "..", "..");
export const fromRoot = (...parts: string[]) => path.join(repoRoot, ...parts);
