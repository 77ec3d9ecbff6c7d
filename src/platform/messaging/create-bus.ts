import type { Logger } from 'pino';
import { createInProcessBus } from './in-process-bus.js';
import type { EventBus } from './types.js';

export interface EventBusOptions {
  /** NATS server with JetStream; when unset, events stay inside this process. */
  natsUrl?: string | undefined;
  /** JetStream stream and subject prefix (defaults of the JetStream bus when unset). */
  stream?: string | undefined;
  subjectPrefix?: string | undefined;
  /** Days the JetStream stream keeps an event: the inbox's retention (MESSAGING_RETENTION_DAYS). */
  retentionDays?: number | undefined;
  logger: Logger;
}

export async function createEventBus(options: EventBusOptions): Promise<EventBus> {
  let bus: EventBus;
  if (options.natsUrl) {
    // loaded only when NATS is used: a process on the in-process bus never holds the client's code
    const { createJetStreamBus } = await import('./jetstream-bus.js');
    bus = await createJetStreamBus({
      url: options.natsUrl,
      logger: options.logger,
      ...(options.stream ? { stream: options.stream } : {}),
      ...(options.subjectPrefix ? { subjectPrefix: options.subjectPrefix } : {}),
      ...(options.retentionDays ? { maxAgeMs: options.retentionDays * 86_400_000 } : {}),
    });
  } else {
    bus = createInProcessBus(options.logger);
  }
  options.logger.info({ bus: bus.describe() }, 'event bus ready');
  return bus;
}
