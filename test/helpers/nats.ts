/** A NATS connection with a unique subject prefix per test file. */
import { randomBytes } from 'node:crypto';
import { connectNats } from '../../common/nats/connect.ts';
import type { NatsConnection } from '../../common/nats/connect.ts';
import { ensureTestStack } from './stack.ts';

/** A connection plus the prefix every subject/bucket of this test must start with. */
export interface TestNats {
  readonly nc: NatsConnection;
  readonly url: string;
  /** e.g. `t.4f3a9c01`: subjects are `${prefix}.something`. */
  readonly prefix: string;
  close(): Promise<void>;
}

/** Connects to the test stack's NATS. */
export async function testNats(): Promise<TestNats> {
  const { natsUrl } = await ensureTestStack();
  const nc = await connectNats({ url: natsUrl, name: 'faithsweep-test' });
  return { nc, url: natsUrl, prefix: `t.${randomBytes(4).toString('hex')}`, close: () => nc.close() };
}
