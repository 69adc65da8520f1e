/**
 * A typed, multi-subscriber async stream of lifecycle events (the nats.js `status()`
 * pattern): each `subscribe()` gets its own iterator that sees every event pushed after it.
 */

/** Events a slow subscriber may have queued before the oldest are dropped. */
export const MAX_QUEUED_EVENTS = 100;

/** A push-based async stream. */
export class EventStream<T> {
  readonly #subscribers = new Set<{ queue: T[]; wake: (() => void) | undefined }>();
  #closed = false;

  /** Delivers `event` to every current subscriber. */
  push(event: T): void {
    if (this.#closed) return;
    for (const s of this.#subscribers) {
      s.queue.push(event);
      if (s.queue.length > MAX_QUEUED_EVENTS) s.queue.shift();
      s.wake?.();
    }
  }

  /** Ends every subscriber's iteration once it has drained its queue. */
  close(): void {
    this.#closed = true;
    for (const s of this.#subscribers) s.wake?.();
  }

  /** A new iterator over the events pushed from now on; `break` out of it to unsubscribe. */
  subscribe(): AsyncIterableIterator<T> {
    const sub: { queue: T[]; wake: (() => void) | undefined } = { queue: [], wake: undefined };
    this.#subscribers.add(sub);
    const done = (): IteratorResult<T> => {
      this.#subscribers.delete(sub);
      return { done: true, value: undefined };
    };
    const it: AsyncIterableIterator<T> = {
      next: async () => {
        while (sub.queue.length === 0) {
          if (this.#closed || !this.#subscribers.has(sub)) return done();
          await new Promise<void>((resolve) => (sub.wake = resolve));
          sub.wake = undefined;
        }
        return { done: false, value: sub.queue.shift() as T };
      },
      return: async () => done(),
      [Symbol.asyncIterator]: () => it,
    };
    return it;
  }
}
