/** The shape every embedded service (PostgreSQL, NATS, Temporal) implements. */

/** Health of one service, as a discriminated union on `state`. */
export type ServiceHealth =
  | { readonly state: 'healthy'; readonly pid: number | null; readonly endpoint: string; readonly detail?: string }
  | { readonly state: 'unhealthy'; readonly pid: number | null; readonly endpoint: string; readonly reason: string }
  | { readonly state: 'stopped'; readonly endpoint: string };

/** One service of the local stack. */
export interface StackService {
  /** Short name: `postgres`, `nats`, `temporal`. */
  readonly name: string;
  /** Whether this stack manages the process (false when pointed at an external service). */
  readonly managed: boolean;
  /** Starts the process if it is not running; resolves when it is healthy. Idempotent. */
  start(): Promise<void>;
  /** Stops the process this stack started, if any. Resolves true when one was stopped. */
  stop(): Promise<boolean>;
  /** Probes the service once. */
  health(): Promise<ServiceHealth>;
}

/** Polls `probe` until it reports healthy, the process dies, or `timeoutMs` passes. */
export async function waitHealthy(
  probe: () => Promise<ServiceHealth>,
  isRunning: () => boolean,
  timeoutMs: number,
): Promise<ServiceHealth> {
  const deadline = Date.now() + timeoutMs;
  let last: ServiceHealth = await probe();
  while (last.state !== 'healthy' && Date.now() < deadline) {
    if (!isRunning()) return last;
    await new Promise((r) => setTimeout(r, 200));
    last = await probe();
  }
  return last;
}
