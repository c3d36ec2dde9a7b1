/**
 * The Google Wallet edge: routes (callbacks, the holder's save-link redirect, the credentials PUT),
 * the push consumer and its change subscriber, save links, the reconciliation job, and the pure
 * cores below them (credentials, tokens, class/object bodies, callback verification).
 */
export { googleRootRoutes, googleApiRoutes } from "./routes";
export { consumeGoogleSync, consumeGoogleDeadLetters } from "./sync-consumer";
export { googleSubscriber } from "./subscriber";
export { reconcileGoogleSaves } from "./reconcile-job";
export { purgeGoogleNonces } from "./callback";
export { googleSaveLink } from "./links";
export { checkGoogleTemplate } from "./template-check";
export { checkGoogleCredentials, type GoogleCredentialsSecret, type GoogleCredentialsSummary } from "./credentials-check";
export { getAccessToken, invalidateAccessToken, signingKey, GoogleAuthError, type ServiceAccountKey } from "./auth";
export { googleConfig, GOOGLE_DEFAULTS, type GoogleConfig, type GoogleVars } from "./config";
export { parseGoogleDesign, type GoogleDesign } from "./design";
export { googleClassId, googleObjectId, parseGoogleClassId, parseGoogleObjectId } from "./ids";
export { resourceFor, googleState, RESOURCE_NAMES, type GoogleResource } from "./resources";
export { type BuildContext, type Body } from "./body-parts";
export { classBody } from "./class-body";
export { objectBody } from "./object-body";
export { patchBody, changeMessage, applyNotificationCap, nextNotificationAt, planObjectUpdate, MAX_NOTIFICATIONS_PER_DAY, type Message } from "./updates";
export { saveLink, MAX_SAVE_JWT_LENGTH } from "./save-link";
export { verifyCallback, DEFAULT_SENDER_ID, type CallbackMessage, type CallbackFailureReason } from "./callback-verify";
export { getRootKeys } from "./root-keys";
export { walletClient, classifyResponse, retryDelaySeconds, objectHasUsers, type WalletClient, type GoogleOutcome } from "./wallet-api";
export { probeSaves, type SaveProbeCandidate, type SaveProbeResult } from "./reconcile";
