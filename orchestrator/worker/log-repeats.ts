/**
 * Repeated failures said once: the Temporal SDK logs every failed activity attempt with its
 * error and stack trace, so a sweep whose agents are all gone writes thousands of identical
 * `AGENT_UNAVAILABLE` traces a minute. {@link repeatFilter} passes the first record of a kind
 * (without the stack), counts the repeats, and writes one line per kind and window with the
 * count ("… repeated 2,913 times in the last 30 s").
 *
 * A record's kind is its level, its message and its error's type and first message line with
 * the parts that differ from unit to unit blanked (ids, numbers, addresses), so "no live agent
 * has model 5f2c…" for two work units is one kind.
 */
import type { LogEntry } from '@temporalio/worker';

/** One record in, as the Temporal runtime gives it. */
export type LogWrite = (entry: LogEntry) => void;

/** Options of {@link repeatFilter}. */
export interface RepeatFilterOptions {
  /** Where records go (after filtering). */
  readonly write: LogWrite;
  /** Length of a counting window in ms. @default 30000 */
  readonly windowMs?: number;
  /** Clock (tests). @default Date.now */
  readonly now?: () => number;
}

interface Kind { first: LogEntry; since: number; repeats: number }

/** The error of a record's metadata as `{ type, message }` (no stack), or undefined. */
function errorOf(meta: Record<string, unknown> | undefined): { type: string; message: string } | undefined {
  const e = meta?.['error'] ?? meta?.['failure'];
  if (!e || typeof e !== 'object') return undefined;
  const x = e as { type?: string; name?: string; message?: string; cause?: { type?: string; message?: string } };
  // ActivityFailure wraps the ApplicationFailure that says what happened.
  const inner = x.cause && (x.cause.type || x.cause.message) ? x.cause : x;
  return { type: inner.type ?? x.type ?? x.name ?? 'Error', message: String(inner.message ?? x.message ?? '').split('\n')[0]! };
}

/** The kind key: level, message, error type and its message with variable parts blanked. */
export function kindOf(entry: LogEntry): string {
  const err = errorOf(entry.meta as Record<string, unknown> | undefined);
  const shape = (s: string) => s.replace(/[0-9a-f]{8,}…?/gi, '#').replace(/\b[\w.-]+:\d+\b/g, '#').replace(/\d+/g, '#');
  return [entry.level, entry.message, err?.type ?? '', shape(err?.message ?? '')].join('\u0000');
}

/** A record without stack traces: its error reduced to type and message. */
function withoutStack(entry: LogEntry): LogEntry {
  const meta = entry.meta as Record<string, unknown> | undefined;
  const err = errorOf(meta);
  if (!meta || !err) return entry;
  const { error: _e, failure: _f, ...rest } = meta;
  return { ...entry, meta: { ...rest, error: err } };
}

/**
 * A log function for `new DefaultLogger(level, fn)` that writes each kind of record once per
 * window and then its repeat count. Records without an error pass unchanged. `flush()`
 * writes the pending counts now (call it at shutdown); `stop()` also ends the timer.
 */
export function repeatFilter(opts: RepeatFilterOptions): { log: LogWrite; flush(): void; stop(): void } {
  const windowMs = opts.windowMs ?? 30_000;
  const now = opts.now ?? Date.now;
  const kinds = new Map<string, Kind>();
  const report = (k: Kind, t: number) => {
    if (k.repeats === 0) return;
    opts.write({
      ...withoutStack(k.first),
      message: `${k.first.message} (repeated ${k.repeats.toLocaleString('en-US')} time${k.repeats === 1 ? '' : 's'} in the last ${Math.max(1, Math.round((t - k.since) / 1000))} s)`,
      timestampNanos: BigInt(t) * 1_000_000n,
    });
  };
  const flush = () => {
    const t = now();
    for (const [key, k] of kinds) {
      if (t - k.since >= windowMs) {
        report(k, t);
        kinds.delete(key);
      }
    }
  };
  const timer = setInterval(flush, Math.max(1000, windowMs / 2));
  timer.unref();
  return {
    log(entry) {
      const meta = entry.meta as Record<string, unknown> | undefined;
      if (!errorOf(meta)) {
        opts.write(entry);
        return;
      }
      const key = kindOf(entry);
      const k = kinds.get(key);
      if (k && now() - k.since < windowMs) {
        k.repeats++;
        return;
      }
      if (k) report(k, now());
      kinds.set(key, { first: entry, since: now(), repeats: 0 });
      opts.write(withoutStack(entry));
    },
    flush() {
      const t = now();
      for (const k of kinds.values()) report(k, t);
      kinds.clear();
    },
    stop() {
      clearInterval(timer);
      this.flush();
    },
  };
}
