/** The passes domain: templates, pass verbs, the state machine and the per-pass Durable Object. */
export { PassObject, type DeliveryTask, type PushTask, type HolderEventInput } from "./pass-object";
export * from "./actions";
export * from "./templates";
export { passView, templateView, type PassView, type TemplateView } from "./view";
export { templateBody, createPassBody, updatePassBody, statusBody, PASS_ID_KEY, PASS_TYPES, FIELD_TYPES } from "./schemas";
export { checkTransition, allowedTargets, PASS_STATUSES } from "./transitions";
export { coerceFields, coerceValue } from "./fields";
export { completeOutboxTask, sweepOutbox } from "./outbox";
