// Types of relay.mjs, for the TypeScript tests in test/node.
import type { ClientHttp2Session, SecureClientSessionOptions } from "node:http2";
import type { IncomingMessage, ServerResponse } from "node:http";

export const TOLERANCE_SECONDS: number;
export const MIN_SECRET_LENGTH: number;
export function sign(secret: string, timestamp: number, body: string): string;
export function normaliseHost(raw: string): string;
export function http2Send(
  session: ClientHttp2Session,
  request: { path: string; headers: Record<string, string>; payload: string },
  timeoutMs: number,
): Promise<{ status: number; body: string; apnsId: string | null }>;

export interface RelayOptions {
  secret: string | undefined;
  allowedHosts: string[];
  now?: () => number;
  apnsTimeoutMs?: number;
  connectOptions?: SecureClientSessionOptions;
}
export interface Relay {
  handler(req: IncomingMessage, res: ServerResponse): void;
  sessionCount(): number;
  close(): void;
}
export function createRelay(options: RelayOptions): Relay;
export function startRelay(
  options: RelayOptions & { port?: number; hostname?: string; tls?: { cert: string | Buffer; key: string | Buffer } },
): Promise<{ url: string; relay: Relay; close(): Promise<void> }>;
