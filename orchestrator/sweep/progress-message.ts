/**
 * Reading the sweep progress messages that workers publish on NATS
 * (on {@link progressSubject}, published by orchestrator/activities/sweep.ts) for `faithsweep watch` and the demo.
 * A message that is not a {@link ProgressMessage} — not JSON, or a field missing or of the
 * wrong type — is a BAD_MESSAGE error handed to the caller, and the reader goes on: a stray
 * publisher on the subject must never stop a watcher.
 */
import { z } from 'zod';
import { ErrorCode, FaithsweepError } from '../../common/errors.ts';
import type { ProgressMessage } from '../activities/sweep.ts';

/** NATS subject of a sweep's progress messages. */
export const progressSubject = (sweepId: string): string => `faithsweep.progress.${sweepId}`;

/** The shape a worker publishes (extra fields are allowed, for newer workers). */
const progressSchema = z.object({
  sweepId: z.string(),
  workUnitId: z.string(),
  agentId: z.string(),
  cells: z.number().int().min(0),
  state: z.enum(['done', 'failed']).optional(),
  at: z.number(),
});

/** Parses one message body; throws BAD_MESSAGE naming the subject and what is wrong. */
export function parseProgressMessage(data: Uint8Array | string, subject: string): ProgressMessage {
  const text = typeof data === 'string' ? data : new TextDecoder().decode(data);
  const bad = (why: string) => new FaithsweepError(ErrorCode.BAD_MESSAGE, `malformed progress message on ${subject}: ${why}`, {
    hint: 'only faithsweep workers of the same version should publish on this subject; the message is skipped',
  });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw bad(`not JSON (${JSON.stringify(text.slice(0, 60))})`);
  }
  const r = progressSchema.safeParse(json);
  if (!r.success) throw bad(r.error.issues.map((i) => `${i.path.join('.') || '(message)'}: ${i.message}`).join('; '));
  return r.data;
}

/**
 * Reads `messages` until they end: each well-formed one goes to `onMessage`; each malformed one,
 * as a BAD_MESSAGE error, to `onBad`. An error of the subscription itself (the connection closing)
 * ends the reading quietly. Never rejects.
 */
export async function followProgress(
  messages: AsyncIterable<{ readonly subject: string; readonly data: Uint8Array }>,
  onMessage: (m: ProgressMessage) => void,
  onBad: (err: FaithsweepError) => void,
): Promise<void> {
  try {
    for await (const m of messages) {
      let msg: ProgressMessage;
      try {
        msg = parseProgressMessage(m.data, m.subject);
      } catch (err) {
        onBad(err as FaithsweepError);
        continue;
      }
      onMessage(msg);
    }
  } catch {
    // The subscription ended with its connection: nothing more to read.
  }
}
