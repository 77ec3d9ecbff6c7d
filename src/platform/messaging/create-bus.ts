import type { Logger } from 'pino';
import { createInProcessBus } from './in-process-bus.js';
import { createJetStreamBus } from './jetstream-bus.js';
import type { EventBus } from './types.js';

export interface EventBusOptions {
  /** NATS server with JetStream; when unset, events stay inside this process. */
  natsUrl?: string | undefined;
  logger: Logger;
}

export async function createEventBus(options: EventBusOptions): Promise<EventBus> {
  const bus = options.natsUrl
    ? await createJetStreamBus({ url: options.natsUrl, logger: options.logger })
    : createInProcessBus(options.logger);
  options.logger.info({ bus: bus.describe() }, 'event bus ready');
  return bus;
}
