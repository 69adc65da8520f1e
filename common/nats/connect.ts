/** NATS connections, with a coded error when the server cannot be reached. */
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { ErrorCode, FaithsweepError } from '../errors.ts';

export type { NatsConnection } from '@nats-io/transport-node';

/** Options of a NATS connection. */
export interface NatsOptions {
  /** Server URL(s), comma-separated. */
  readonly url: string;
  /** Connection name shown in the server's monitor. @default 'faithsweep' */
  readonly name?: string;
  /**
   * Reconnect without end after the connection is lost (a NATS restart or outage), instead
   * of closing after nats.js's default 10 attempts (~20 s). For long-lived processes: the
   * worker and the agents. @default false
   */
  readonly reconnectForever?: boolean;
}

/** Wait between reconnect attempts of a {@link NatsOptions.reconnectForever} connection: a restart is seen within ~1 s. */
const RECONNECT_WAIT_MS = 1000;

/** Connects to NATS; throws `SERVICE_UNAVAILABLE` when the server does not answer. */
export async function connectNats(opts: NatsOptions): Promise<NatsConnection> {
  try {
    return await connect({
      servers: opts.url.split(','), name: opts.name ?? 'faithsweep', timeout: 5000,
      ...(opts.reconnectForever ? { maxReconnectAttempts: -1, reconnectTimeWait: RECONNECT_WAIT_MS } : {}),
    });
  } catch (err) {
    throw new FaithsweepError(ErrorCode.SERVICE_UNAVAILABLE, `cannot connect to NATS at ${opts.url}: ${(err as Error).message}`, {
      hint: "start the local stack with 'npx faithsweep dev up', or fix NATS_URL",
      cause: err,
    });
  }
}
