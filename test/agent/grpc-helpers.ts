/** Small promise wrappers over gRPC client calls, shared by the agent tests. */
import type { ClientReadableStream, ServiceError } from '@grpc/grpc-js';
import type { RunGroupEvent } from '../../generated/proto/faithsweep/v1/agent.ts';

/** Everything a RunGroup stream delivered, and how it ended. */
export interface Collected {
  readonly events: RunGroupEvent[];
  /** The error status, or undefined when the call ended OK. */
  readonly error: ServiceError | undefined;
}

/** Reads a RunGroup stream to its end. */
export function collect(stream: ClientReadableStream<RunGroupEvent>): Promise<Collected> {
  const events: RunGroupEvent[] = [];
  return new Promise((resolve) => {
    stream.on('data', (e: RunGroupEvent) => events.push(e));
    stream.on('error', (error: ServiceError) => resolve({ events, error }));
    stream.on('end', () => setImmediate(() => resolve({ events, error: undefined })));
  });
}

/** Resolves with the first event of a stream (rejects if it ends first). */
export function firstEvent(stream: ClientReadableStream<RunGroupEvent>): Promise<RunGroupEvent> {
  return new Promise((resolve, reject) => {
    stream.once('data', resolve);
    stream.once('error', reject);
  });
}

/** Polls `probe` every `everyMs` until it returns true or `timeoutMs` passes; resolves the elapsed ms. */
export async function waitFor(probe: () => boolean | Promise<boolean>, timeoutMs: number, what: string, everyMs = 25): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (await probe()) return Date.now() - t0;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
