/** The projects domain: projects, API keys, operator auth, idempotency of admin writes. */
export { createProject, getProject } from "./create";
export { apiKeyExists, createApiKey, deleteApiKey, verifyBasicAuth, verifyKeySecret, verifyOperator, type BasicAuthFailure } from "./api-keys";
export { beginIdempotent, finishIdempotent, purgeExpiredIdempotencyKeys } from "./idempotency";
export { createProjectBody } from "./schemas";
