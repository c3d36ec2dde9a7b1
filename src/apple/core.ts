/**
 * @module apple/core
 * The pure Apple core: template design, pass.json, the signed .pkpass, credential validation, APNs
 * tokens, push classification, transports and the canary. Nothing here touches D1, the passes domain
 * or the Worker runtime's own modules, so Node tests and scripts can load it (test/node/support/apple-src.ts).
 */
export {
  appleDesign,
  splitDesignImages,
  decodeDesignImages,
  passStyleOf,
  placementLimits,
  PERSONALIZATION_FIELDS,
  MAX_IMAGE_BYTES,
  type AppleDesign,
  type AppleDesignCore,
  type AppleDesignInput,
  type PersonalizationField,
  type TemplatePassType,
} from "./design";
export { checkDesignForTemplate, type TemplateShape } from "./design-check";
export { buildPassJson, appleWebServiceURL, defaultPlacement, MIN_AUTH_TOKEN_LENGTH, type PassJson, type PassJsonInput } from "./pass-json";
export { defaultIconImages } from "./default-icon";
export {
  buildPkpass,
  loadSigner,
  signDetached,
  signPersonalizationToken,
  buildPersonalizationJson,
  type AppleSigner,
  type SignerMaterial,
  type Pkpass,
  type PkpassInput,
} from "./pkpass";
export {
  appleCredentialsBody,
  validateAppleCredentials,
  validateApnsKey,
  normaliseApnsHost,
  failureIssues,
  DEFAULT_APNS_HOST,
  type AppleCredentialsBody,
  type AppleCertificateSummary,
  type CertificateFailure,
  type CertificateFailureReason,
  type ValidatedAppleCredentials,
} from "./certificates";
export { providerToken, invalidateProviderToken, TOKEN_MAX_AGE_MS, type ApnsTokenKey } from "./apns-token";
export {
  buildPushRequest,
  classifyApnsResponse,
  classifyTransportFailure,
  type ApnsOutcome,
  type ApnsRequest,
  type ApnsResponse,
  type PushOptions,
} from "./apns";
export { fetchTransport, relayTransport, relaySignature, ApnsTransportError, type ApnsTransport } from "./apns-transport";
export { personalizeBody, missingPersonalization, type PersonalizeBody, type PersonalizationInfo } from "./personalize";
export { runApnsCanary, interpretCanaryAnswer, type CanaryResult } from "./canary";
