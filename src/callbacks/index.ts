/** The callbacks domain: registration, signed and retried delivery in per-pass order, the delivery log. */
export { registerCallback, getCallback, deleteCallback, rotateCallbackSecret } from "./settings";
export { listProjectDeliveries, getDelivery, resendDelivery, recoverDeliveries, testSend } from "./deliveries";
export { consumeCallbacks, consumeDeadLetters } from "./consumer";
export { sweepDeliveries } from "./sweep";
export { registerBody, testSendBody, recoverBody, deliveryListQuery } from "./schemas";
