/** Free-port discovery on the loopback interface. */
import { createServer } from 'node:net';

/** Resolves true when `port` can be bound on 127.0.0.1 right now. */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** An ephemeral port that is free now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** `preferred` when it is free, else an ephemeral free port. */
export async function preferredOrFreePort(preferred: number, taken: ReadonlySet<number>): Promise<number> {
  if (!taken.has(preferred) && (await isPortFree(preferred))) return preferred;
  for (;;) {
    const p = await freePort();
    if (!taken.has(p)) return p;
  }
}
