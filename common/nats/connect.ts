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
   * of closing after nats.js's default 10 attempts (~20 s), and ping the server every
   * {@link PING_INTERVAL_MS} so that a silent connection (this host cut off by the network)
   * is found stale within ~30 s instead of ~6 minutes, and dialled again as soon as the link
   * returns instead of waiting for TCP's backed-off retransmissions. For long-lived
   * processes: the worker and the agents. @default false
   */
  readonly reconnectForever?: boolean;
}

/** Wait between reconnect attempts of a {@link NatsOptions.reconnectForever} connection: a restart is seen within ~1 s. */
const RECONNECT_WAIT_MS = 1000;
/**
 * Client PINGs of a {@link NatsOptions.reconnectForever} connection (nats.js's default is 2
 * minutes): with {@link MAX_PINGS_OUT} unanswered the connection is stale and reconnected, so
 * a dead link is noticed 20–30 s after it died. A PING is a few bytes every 10 s.
 */
export const PING_INTERVAL_MS = 10_000;
/** Unanswered PINGs before a connection is taken for stale (nats.js's default). */
const MAX_PINGS_OUT = 2;

/** Connects to NATS; throws `SERVICE_UNAVAILABLE` when the server does not answer. */
export async function connectNats(opts: NatsOptions): Promise<NatsConnection> {
  try {
    return await connect({
      servers: opts.url.split(','), name: opts.name ?? 'faithsweep', timeout: 5000,
      ...(opts.reconnectForever ? { maxReconnectAttempts: -1, reconnectTimeWait: RECONNECT_WAIT_MS, pingInterval: PING_INTERVAL_MS, maxPingOut: MAX_PINGS_OUT } : {}),
    });
  } catch (err) {
    throw new FaithsweepError(ErrorCode.SERVICE_UNAVAILABLE, `cannot connect to NATS at ${opts.url}: ${(err as Error).message}`, {
      hint: "start the local stack with 'npx faithsweep dev up', or fix NATS_URL",
      cause: err,
    });
  }
}
