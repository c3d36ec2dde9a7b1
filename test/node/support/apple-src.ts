/**
 * src/apple's pure core (src/apple/core.ts: the index also exports routes and consumers, which need
 * the Workers runtime) loaded at run time, typed narrowly here. src/ type-checks with Workers types
 * (tsconfig.json); this project has Node and DOM types, under which src/lib/crypto.ts does not, so the
 * modules are imported by path (vitest transforms them as usual) instead of statically.
 */
import { fromRoot } from "./repo";

export interface SignerMaterial {
  version: string;
  certificatePem: string;
  wwdrCertificatePem: string;
  privateKeyPem: string;
}
export type Signer = { readonly version: string };
export interface ApnsRequest {
  host: string;
  deviceToken: string;
  topic: string;
  jwt: string;
  payload: string;
  headers: Record<string, string>;
}
export interface ApnsTransport {
  send(req: ApnsRequest): Promise<{ status: number; body: string; apnsId: string | null }>;
}

export interface AppleSrc {
  appleDesign: { parse(raw: unknown): Record<string, unknown> };
  buildPassJson(input: {
    template: { name: string; passType: string; fields: unknown[]; design: Record<string, unknown> | null };
    pass: { serialNumber: string; status: string; fields: Record<string, string | number>; updatedAt: number };
    identity: { passTypeIdentifier: string; teamIdentifier: string; organizationName: string };
    webServiceURL: string;
    authenticationToken: string;
    now: number;
  }): Record<string, unknown>;
  loadSigner(m: SignerMaterial): Promise<Signer>;
  buildPkpass(input: {
    passJson: Record<string, unknown>;
    images: Record<string, Uint8Array>;
    personalization?: { requiredFields: string[]; description: string; termsAndConditions?: string } | null;
    signer: Signer;
    now: number;
  }): Promise<{ bytes: Uint8Array; manifest: Record<string, string> }>;
  signPersonalizationToken(token: string, signer: Signer, now: number): Promise<Uint8Array>;
  buildPushRequest(input: { host: string; deviceToken: string; passTypeIdentifier: string; jwt: string; now: number }): ApnsRequest;
  relayTransport(opts: { url: string; secret: string; timeoutMs?: number }): ApnsTransport;
  providerToken(key: { teamId: string; keyId: string; privateKeyPem: string; keyVersion: string }, now: number): Promise<string>;
}

export async function loadAppleSrc(): Promise<AppleSrc> {
  return (await import(/* @vite-ignore */ fromRoot("src/apple/core.ts"))) as AppleSrc;
}
