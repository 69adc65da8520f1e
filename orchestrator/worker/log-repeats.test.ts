// repeatFilter: the worker's Temporal log says a repeated failure once, without its stack,
// then how many times it repeated per window; different failures and records without an
// error pass on their own. The records are shaped as the SDK's "Activity failed" warnings.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LogEntry } from '@temporalio/worker';
import { ApplicationFailure } from '@temporalio/common';
import { repeatFilter } from './log-repeats.ts';

const failed = (message: string, type = 'AGENT_UNAVAILABLE', unit = 'w1'): LogEntry => ({
  level: 'WARN', message: 'Activity failed', timestampNanos: 0n,
  meta: { activityType: 'runWorkUnit', workUnitId: unit, error: ApplicationFailure.retryable(message, type) },
});

describe('repeated failures in the worker log', () => {
  it('writes the first of a kind without its stack, then one count per window', () => {
    let t = 0;
    const out: LogEntry[] = [];
    const f = repeatFilter({ write: (e) => out.push(e), windowMs: 30_000, now: () => t });
    for (let i = 0; i < 3000; i++) {
      t = i * 10; // 3,000 attempts over 30 s, each for another work unit and agent
      f.log(failed(`no live agent has model ${(0x5f2c0000 + i).toString(16)}ab…`, 'AGENT_UNAVAILABLE', `w${i}`));
    }
    assert.equal(out.length, 1, 'one line for 3,000 identical failures within the window');
    const first = out[0]!;
    const err = (first.meta as { error: { type: string; message: string; stack?: string } }).error;
    assert.deepEqual(err, { type: 'AGENT_UNAVAILABLE', message: 'no live agent has model 5f2c0000ab…' });
    assert.doesNotMatch(JSON.stringify(first.meta), /\n\s+at /, 'no stack trace');
    t = 30_000;
    f.log(failed('no live agent has model 77aa0000ab…'));
    assert.equal(out.length, 3, 'the count, then the next window opens with one record');
    assert.equal(out[1]!.message, 'Activity failed (repeated 2,999 times in the last 30 s)');
    assert.equal(out[2]!.message, 'Activity failed');
    f.stop();
    assert.equal(out.length, 3, 'nothing repeated since');
  });

  it('keeps different failures and plain records apart', () => {
    const out: LogEntry[] = [];
    const f = repeatFilter({ write: (e) => out.push(e), now: () => 0 });
    f.log(failed('no live agent has model 5f2c…'));
    f.log(failed('agent a1 rejected the work unit: position 99 is outside gen_length 40', 'BAD_INTERVENTION'));
    f.log({ level: 'INFO', message: 'Worker state changed', timestampNanos: 0n, meta: { state: 'RUNNING' } });
    f.log({ level: 'INFO', message: 'Worker state changed', timestampNanos: 0n, meta: { state: 'RUNNING' } });
    f.log(failed('no live agent has model 5f2c…'));
    assert.deepEqual(out.map((e) => e.message), ['Activity failed', 'Activity failed', 'Worker state changed', 'Worker state changed']);
    f.stop();
    assert.equal(out.at(-1)!.message, 'Activity failed (repeated 1 time in the last 1 s)', 'stop() writes the counts left');
  });
});
