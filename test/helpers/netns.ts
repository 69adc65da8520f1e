/**
 * A second "host" for end-to-end tests: a Linux network namespace joined to this one by a
 * veth pair (a /30 of 10.231.0.0/16 picked at random), so that a process started inside it
 * (an agent) reaches this host, and is reached from it, only through that link — and can be
 * cut off by taking the link down, as a cable pull or a switch failure would.
 *
 * The shared test services listen on 127.0.0.1 only; {@link Netns.relay} exposes one of them
 * on the link's host address (a TCP relay in the test process), the way a real NATS would
 * listen on a routable address. Needs root (`ip netns`, `ip link`): a test that uses it fails
 * when it cannot create the namespace, it is not skipped.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createConnection, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';

/** A namespace, its link and the relays that expose local services on it. */
export interface Netns {
  /** Namespace name, unique per run (`fsp-xxxxxx`). */
  readonly name: string;
  /** This host's end of the link (`fsh-xxxxxx`). */
  readonly hostLink: string;
  /** Address of this host on the link. */
  readonly hostIp: string;
  /** Address of the namespace on the link: what a process inside binds and advertises. */
  readonly nsIp: string;
  /** The command prefix that runs a program inside the namespace. */
  readonly exec: readonly string[];
  /** Listens on `hostIp` and relays every connection to 127.0.0.1:`port`; resolves with the relay's port. */
  relay(port: number): Promise<number>;
  /** Takes the link down: packets in either direction are lost, established connections stay open. */
  cut(): void;
  /** Brings the link up again. */
  restore(): void;
  /** Stops the relays and deletes the link and the namespace (idempotent; processes inside must have exited). */
  close(): Promise<void>;
}

const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** Creates the namespace and its link. Throws (with `ip`'s message) when the host does not allow it. */
export function createNetns(): Netns {
  const id = randomBytes(3).toString('hex');
  const name = `fsp-${id}`;
  const hostLink = `fsh-${id}`;
  const nsLink = `fsn-${id}`;
  // A random /30 out of 10.231.0.0/16: two runs on one host do not collide.
  const block = randomBytes(2).readUInt16BE(0) & 0x3fff;
  const base = `10.231.${block >> 6}.${(block & 0x3f) * 4}`;
  const octets = base.split('.').map(Number);
  const at = (n: number): string => [...octets.slice(0, 3), octets[3]! + n].join('.');
  const hostIp = at(1);
  const nsIp = at(2);
  const relays: Server[] = [];
  const sockets = new Set<Socket>();
  let closed = false;

  const teardown = (): void => {
    try { ip('link', 'del', hostLink); } catch { /* gone already, or never made */ }
    try { ip('netns', 'del', name); } catch { /* gone already, or never made */ }
  };
  try {
    ip('netns', 'add', name);
    ip('link', 'add', hostLink, 'type', 'veth', 'peer', 'name', nsLink);
    ip('link', 'set', nsLink, 'netns', name);
    ip('addr', 'add', `${hostIp}/30`, 'dev', hostLink);
    ip('link', 'set', hostLink, 'up');
    ip('-n', name, 'addr', 'add', `${nsIp}/30`, 'dev', nsLink);
    ip('-n', name, 'link', 'set', nsLink, 'up');
    ip('-n', name, 'link', 'set', 'lo', 'up');
  } catch (err) {
    teardown();
    const e = err as Error & { stderr?: string };
    throw new Error(`cannot create network namespace ${name} with a veth link (needs root and 'ip'): ${e.stderr?.trim() || e.message}`, { cause: err });
  }

  return {
    name, hostLink, hostIp, nsIp,
    exec: ['ip', 'netns', 'exec', name],
    relay(port) {
      const server = createServer((inbound) => {
        const outbound = createConnection({ host: '127.0.0.1', port });
        sockets.add(inbound);
        sockets.add(outbound);
        const end = (): void => {
          inbound.destroy();
          outbound.destroy();
          sockets.delete(inbound);
          sockets.delete(outbound);
        };
        inbound.on('error', end).on('close', end);
        outbound.on('error', end).on('close', end);
        inbound.pipe(outbound);
        outbound.pipe(inbound);
      });
      relays.push(server);
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, hostIp, () => resolve((server.address() as { port: number }).port));
      });
    },
    cut: () => void ip('link', 'set', hostLink, 'down'),
    restore: () => void ip('link', 'set', hostLink, 'up'),
    async close() {
      if (closed) return;
      closed = true;
      for (const s of sockets) s.destroy();
      await Promise.all(relays.map((r) => new Promise((resolve) => r.close(resolve))));
      teardown();
    },
  };
}
