/** The smoke workflow: runs the smoke activity once (see orchestrator/activities/smoke.ts). */
import { proxyActivities } from '@temporalio/workflow';
import type { SmokeActivities, SmokeInput, SmokeResult } from '../orchestrator/activities/smoke.ts';

const { recordSmoke } = proxyActivities<SmokeActivities>({
  // A database upsert plus a NATS publish: seconds, even on a loaded machine.
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 3, initialInterval: '1 second' },
});

/** Writes a Sweep row and publishes a NATS message through the smoke activity. */
export async function smokeWorkflow(input: SmokeInput): Promise<SmokeResult> {
  return await recordSmoke(input);
}
