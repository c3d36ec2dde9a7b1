/**
 * The Apple Wallet edge: template design, pass.json, the signed .pkpass, credential validation, APNs
 * tokens, push classification and transports (the pure core), and on top of them the PassKit web
 * service and downloads (routes.ts), the push consumer, the change subscriber, and what the admin API
 * and the links need (`checkAppleTemplate`, `takeAppleImages`, `saveAppleImages`, `appleDownloadUrl`).
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
export { appleRoutes, appleApiRoutes } from "./routes";
export { consumeApplePushes, consumeAppleDeadLetters } from "./push-consumer";
export { appleSubscriber } from "./subscriber";
export { FANOUT_PAGE } from "./fanout";
export { appleDownloadUrl } from "./downloads";
export { checkAppleTemplate, takeAppleImages } from "./template-design";
export { saveAppleImages } from "./images";
export { appleAuthToken } from "./auth-token";
export { apnsTransport, PUBLIC_URL_MISSING, type AppleEnv } from "./config";
