// Job events: EventBridge when a bus is configured, else a log line (and the local forward URL).
import { getEventBridgeClient } from '../adapters/aws-clients.ts';
import { EventBridgePublisher, LocalEventPublisher } from '../adapters/event-publishers.ts';
import type { PartContext } from './function-runtime.ts';

export const jobEvents = ({ config, logger }: PartContext) =>
  config.EVENT_BUS_NAME
    ? new EventBridgePublisher(getEventBridgeClient(), config.EVENT_BUS_NAME)
    : new LocalEventPublisher(logger, config.EVENTS_FORWARD_URL);
