/**
 * HTTP/2 keepalive on the worker↔agent connection, both ways, so that a connection whose
 * peer has silently gone (its host cut off by the network, a cable pulled, a host frozen)
 * is closed within {@link KEEPALIVE_TIME_MS} + {@link KEEPALIVE_TIMEOUT_MS} rather than when
 * TCP gives up (about 15 minutes on Linux, `tcp_retries2`):
 *
 * - on the worker's channel, the RunGroup call in flight fails with UNAVAILABLE and the work
 *   unit is retried on another agent (well before the worker's stall timeout, 60 s), and
 *   the next call to that agent dials a new connection instead of queueing on the dead one;
 * - on the agent's server, the cut-off caller's calls are cancelled, so the agent stops
 *   computing a work unit nobody can receive and frees its slot for the callers it can reach.
 *
 * gRPC's keepalive design (proposal A8, client-side keepalive) sends HTTP/2 PINGs and closes
 * the transport when one is not acknowledged in time. A PING is answered by the peer's event
 * loop, so the timeout must exceed the longest a busy agent or worker may block its loop.
 * docs/deploy.md ("When an agent's host is cut off") gives the resulting timings.
 */
import type { ChannelOptions } from '@grpc/grpc-js';

/** A PING is sent after this long without one (only while calls are open on the worker's side). */
export const KEEPALIVE_TIME_MS = 10_000;
/**
 * A PING not acknowledged within this long closes the connection. 20 s: far above a healthy
 * peer's answer (milliseconds), above the longest event-loop stall seen on a loaded two-core
 * machine, and short enough that a cut-off agent loses its work within half a minute.
 */
export const KEEPALIVE_TIMEOUT_MS = 20_000;

/** Channel options of the worker's client of an agent. */
export const CLIENT_KEEPALIVE: ChannelOptions = Object.freeze({
  'grpc.keepalive_time_ms': KEEPALIVE_TIME_MS,
  'grpc.keepalive_timeout_ms': KEEPALIVE_TIMEOUT_MS,
  // No PINGs on an idle channel; the first call after a quiet spell sends one at once.
  'grpc.keepalive_permit_without_calls': 0,
});

/** Server options of the agent. */
export const SERVER_KEEPALIVE: ChannelOptions = Object.freeze({
  'grpc.keepalive_time_ms': KEEPALIVE_TIME_MS,
  'grpc.keepalive_timeout_ms': KEEPALIVE_TIMEOUT_MS,
});
