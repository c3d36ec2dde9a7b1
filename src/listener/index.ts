/** The listener domain: integrations, their listener endpoint, mapping, and the inbound event log. */
export { listenerRoutes } from "./routes";
export {
  createIntegration,
  listIntegrations,
  getIntegration,
  patchIntegration,
  deleteIntegration,
  rotateIntegration,
  type IntegrationScope,
} from "./integrations";
export { listEvents, replayEvent, purgeOldEvents, EVENT_RETENTION } from "./event-log";
export { createIntegrationBody, patchIntegrationBody, INTEGRATION_ACTIONS } from "./schemas";
export { applyMapping, checkMapping, expectedPayload, PASS_ID } from "./mapping";
