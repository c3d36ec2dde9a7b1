/** The projects domain: projects, API keys, operator auth, idempotency of admin writes. */
export { createProject, getProject } from "./create";
export { liveKeyShard, createApiKey, deleteApiKey, verifyBasicAuth, verifyKeySecret, verifyOperator, type BasicAuthFailure, type KeyOwner } from "./api-keys";
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
export { placeNewProject, projectEnv, projectShard, withShard } from "./placement";
export { refuseBlockedClient, spendAuthAttempt, AUTH_BLOCK_SECONDS } from "./auth-limit";
