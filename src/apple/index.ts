/**
 * The Apple Wallet edge: template design, pass.json, the signed .pkpass, credential validation, APNs
 * tokens, push classification and transports (the pure core), and on top of them the PassKit web
 * service and downloads (routes.ts), the push consumer, the change subscriber, and what the admin API
 * and the links need (`checkAppleTemplate`, `takeAppleImages`, `saveAppleImages`, `appleDownloadUrl`),
 * and the operator's APNs canary route.
 */
export * from "./core";
export { appleRoutes, appleApiRoutes } from "./routes";
export { consumeApplePushes, consumeAppleDeadLetters } from "./push-consumer";
export { appleSubscriber } from "./subscriber";
export { FANOUT_PAGE } from "./fanout";
export { appleDownloadUrl } from "./downloads";
export { checkAppleTemplate, takeAppleImages } from "./template-design";
export { checkAppleImagesFit, saveAppleImages } from "./images";
export { appleAuthToken } from "./auth-token";
export { apnsTransport, PUBLIC_URL_MISSING, type AppleEnv } from "./config";
export { apnsCanaryBody } from "./operator-canary";
