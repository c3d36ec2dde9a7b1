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
export { getEvent, latestEvents, listEvents, replayEvent, purgeOldEvents } from "./event-log";
export { moveLegacyDetails } from "./event-details";
export { createIntegrationBody, patchIntegrationBody } from "./schemas";
export { expectedPayload, checkMapping, FIELD_ACTIONS, type FieldMapping } from "./mapping";
export { INTEGRATION_ACTIONS } from "./schemas";
