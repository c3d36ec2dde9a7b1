/** The projects domain: projects, API keys, operator auth, idempotency of admin writes. */
export { createProject, getProject } from "./create";
export { apiKeyExists, createApiKey, deleteApiKey, verifyBasicAuth, verifyKeySecret, verifyOperator, type BasicAuthFailure } from "./api-keys";
export { beginIdempotent, finishIdempotent, refuseIdempotent, purgeExpiredIdempotencyKeys, type IdempotencyStart } from "./idempotency";
export { createProjectBody } from "./schemas";
export {
  saveWalletCredentials,
  walletCredentialSummaries,
  configuredWallets,
  deleteWalletCredentials,
  loadWalletCredentials,
  WALLETS,
  type LoadedCredentials,
  type WalletName,
} from "./credentials";
export { refuseBlockedClient, spendAuthAttempt, AUTH_BLOCK_SECONDS } from "./auth-limit";
