/** The committed test-only Apple PKI (test/fixtures/apple/README.md), as text, for workerd tests. */
const files = import.meta.glob("../fixtures/apple/*", { query: "?raw", import: "default", eager: true }) as Record<string, string>;

export function fixture(name: string): string {
  const text = files[`../fixtures/apple/${name}`];
  if (text === undefined) throw new Error(`no fixture ${name}`);
  return text;
}

export const identity = JSON.parse(fixture("identity.json")) as {
  passTypeIdentifier: string;
  teamIdentifier: string;
  organizationName: string;
  passphrase: string;
  apnsKeyId: string;
  apnsTeamId: string;
};

/** A valid credential body made of the fixtures. */
export function goodCredentials() {
  return {
    passTypeIdentifier: identity.passTypeIdentifier,
    teamIdentifier: identity.teamIdentifier,
    certificatePem: fixture("pass.pem"),
    privateKeyPem: fixture("pass.key"),
    wwdrCertificatePem: fixture("wwdr.pem"),
  };
}
