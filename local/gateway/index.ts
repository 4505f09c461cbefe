// Local stand-ins for API Gateway (HTTP API → Lambda events) and EventBridge schedules.
export { createLambdaContext, type LambdaContextOptions } from './context.ts';
export { apiGatewayTime, buildHttpEvent, encodeBody } from './event.ts';
export {
  type IamAuthorizer,
  LOCAL_ACCOUNT_ID,
  localIamAuthorizer,
  localPrincipalId,
} from './principal.ts';
export type { GatewayRoute, HttpHandler, HttpMethod } from './routes.ts';
export {
  allSchedules,
  type LocalScheduledEvent,
  type Schedule,
  type ScheduledHandler,
  type ScheduleOptions,
  startSchedule,
} from './scheduler.ts';
export {
  createGateway,
  type Gateway,
  type GatewayOptions,
  HTTP_API_INTEGRATION_TIMEOUT_MS,
  HTTP_API_MAX_BODY_BYTES,
  LAMBDA_SYNC_PAYLOAD_BYTES,
} from './server.ts';
