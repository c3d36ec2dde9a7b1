/** Host tools for Apple tests: openssl, the test-PKI script, temporary directories. */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fromRoot } from "./repo";

export function tempDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), `passhook-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs openssl; returns { ok, output (stdout + stderr) } instead of throwing, so a test can assert a refusal. */
export function openssl(args: string[], cwd: string): { ok: boolean; output: string } {
  const r = spawnSync("openssl", args, { cwd, encoding: "utf8" });
  return { ok: r.status === 0, output: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

/** A fresh throwaway Apple PKI made by the project's own script (npm run apple:test-certs). */
export function makeTestPki(dir: string): void {
  execFileSync(process.execPath, [fromRoot("scripts/apple-test-certs.mjs"), dir], { stdio: "pipe" });
}

/** A self-signed TLS certificate for 127.0.0.1 / localhost. */
export function makeTlsCert(dir: string): { cert: string; key: string } {
  const r = openssl(
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "tls.key", "-out", "tls.pem", "-days", "2",
      "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
    dir,
  );
  if (!r.ok) throw new Error(r.output);
  return { cert: path.join(dir, "tls.pem"), key: path.join(dir, "tls.key") };
}
