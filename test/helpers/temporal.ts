/**
 * A Temporal test environment on the real dev server binary that scripts/setup located
 * (or built), started per test file on a free port with in-memory state.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { randomBytes } from 'node:crypto';
import { installTemporalRuntime } from '../../orchestrator/worker/create-worker.ts';
import { testTools } from './stack.ts';

/** Starts `temporal server start-dev` through the SDK's test environment. */
export async function temporalEnv(): Promise<TestWorkflowEnvironment> {
  installTemporalRuntime('WARN');
  return TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: testTools().temporal }, ip: '127.0.0.1', extraArgs: ['--log-level', 'error'] },
  });
}

/** A task queue name no other test uses. */
export function uniqueTaskQueue(label: string): string {
  return `${label}-${randomBytes(4).toString('hex')}`;
}
