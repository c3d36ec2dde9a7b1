/**
 * A local stand-in for APNs: an HTTP/2-only TLS server (self-signed, no HTTP/1.1 fallback, like APNs)
 * answering `POST /3/device/{token}` the way APNs does, chosen by the device token. It records every
 * request and counts HTTP/2 sessions.
 */
import http2 from "node:http2";
import { readFileSync } from "node:fs";

export const TOKENS = {
  ok: "a".repeat(64),
  bad: "b".repeat(64),
  gone: "c".repeat(64),
  hang: "d".repeat(64),
  expiredJwt: "e".repeat(64),
  canary: "0".repeat(64),
};
export const GONE_AT = 1_700_000_000_000;

export interface SeenRequest {
  path: string;
  headers: http2.IncomingHttpHeaders;
  body: string;
}

export async function startFakeApns(tls: { cert: string; key: string }) {
  const seen: SeenRequest[] = [];
  let sessions = 0;
  const open = new Set<http2.ServerHttp2Session>();
  const server = http2.createSecureServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key), allowHTTP1: false });
  server.on("session", (s) => {
    sessions++;
    open.add(s);
    s.on("close", () => open.delete(s));
  });
  server.on("stream", (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () => {
      const path = String(headers[":path"]);
      seen.push({ path, headers, body: Buffer.concat(chunks).toString("utf8") });
      const token = path.split("/").pop();
      const answer = (status: number, body?: object) => {
        stream.respond({ ":status": status, "apns-id": "0a1b2c3d-0000-4000-8000-000000000001", ...(body ? { "content-type": "application/json" } : {}) });
        stream.end(body ? JSON.stringify(body) : undefined);
      };
      if (headers[":method"] !== "POST" || !path.startsWith("/3/device/")) return answer(404, { reason: "BadPath" });
      if (!String(headers.authorization ?? "").startsWith("bearer ")) return answer(403, { reason: "MissingProviderToken" });
      switch (token) {
        case TOKENS.ok:
          return answer(200);
        case TOKENS.bad:
          return answer(400, { reason: "BadDeviceToken" });
        case TOKENS.gone:
          return answer(410, { reason: "Unregistered", timestamp: GONE_AT });
        case TOKENS.expiredJwt:
          return answer(403, { reason: "ExpiredProviderToken" });
        case TOKENS.hang:
          return; // never answers
        case TOKENS.canary: {
          // A throwaway key is refused; a "real" one reaches the device-token check.
          const claims = JSON.parse(Buffer.from(String(headers.authorization).split(".")[1], "base64url").toString());
          return claims.iss === "CANARY0000" ? answer(403, { reason: "InvalidProviderToken" }) : answer(400, { reason: "BadDeviceToken" });
        }
        default:
          return answer(400, { reason: "BadDeviceToken" });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `https://127.0.0.1:${port}`,
    seen,
    sessions: () => sessions,
    close: () =>
      new Promise<void>((resolve) => {
        // Sessions of a hung stream would keep close() waiting.
        server.close(() => resolve());
        for (const s of open) s.destroy();
      }),
    ca: readFileSync(tls.cert),
  };
}
