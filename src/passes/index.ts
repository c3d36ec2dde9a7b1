/** The passes domain: templates, pass verbs, the state machine and the per-pass Durable Object. */
export { PassObject, type DeliveryTask, type PushTask, type HolderEventInput } from "./pass-object";
export * from "./actions";
export * from "./templates";
export { templateBody, createPassBody, updatePassBody, statusBody, PASS_ID_KEY } from "./schemas";
export { isBlank } from "./fields";
export { consumePushes, sweepOutbox, type ChangeSubscriber, type WalletChange } from "./outbox";
export * from "./wallet-jobs";
export { walletPass, type WalletPass } from "./wallet-reads";
export { type Receipt, type ReceiptAnswer, type LoggedAnswer } from "./receipt";
export { searchPasses, getPassHistory, PASS_FILTERS, type PassFilter } from "./search";
export { passPublicToken, passPageUrl, findPassByPublicToken, holderTokenEnv, type PublicPass } from "./links";
export { PASS_STATUSES } from "./transitions";
export type { PassView, TemplateView } from "./view";
