// Client-side limiter: at most N request starts in any 10 s window plus at most M in flight, granted FIFO.

/** The documented upstream limits are counted per 10 s, so the window is fixed at that. */
export const LIMITER_WINDOW_MS = 10_000;

/** Requests started per 10 s window and requests in flight at once. */
export interface LimiterSettings {
  ratePer10s: number;
  concurrency: number;
}

/** Clock and timer, injectable so tests control time instead of waiting. */
export interface LimiterClock {
  now: () => number;
  sleep: (ms: number) => Promise<void>;
}

/** A granted slot; call `release()` exactly once when the request is over (extra calls are ignored). */
export interface Permit {
  /** How long the caller queued before the grant (0 when granted at once). */
  readonly waitedMs: number;
  release(): void;
}

const defaultClock: LimiterClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

interface Waiter {
  enqueuedAt: number;
  grant: (permit: Permit) => void;
}

/**
 * Token bucket over a sliding 10 s window (each token comes back 10 s after it was spent, so no 10 s window
 * ever sees more than `ratePer10s` starts, unlike a refilling bucket that allows a burst plus the refill)
 * combined with a semaphore of `concurrency` slots. Waiters are served strictly in arrival order; a waiter
 * blocked on the rate sleeps once until the next token frees, it never polls.
 */
export class Limiter {
  /** Ring of the start times of the last `ratePer10s` grants; the slot at `next` is the oldest. */
  private readonly starts: number[];
  private next = 0;
  private active = 0;
  private readonly queue: Waiter[] = [];
  private timerPending = false;

  constructor(
    readonly settings: LimiterSettings,
    private readonly clock: LimiterClock = defaultClock,
  ) {
    for (const [name, value] of Object.entries(settings)) {
      if (!Number.isInteger(value) || value < 1) {
        throw new RangeError(`Limiter ${name} must be a positive integer, got ${value}`);
      }
    }
    this.starts = new Array<number>(settings.ratePer10s).fill(Number.NEGATIVE_INFINITY);
  }

  /** Requests currently holding a permit. */
  get inFlight(): number {
    return this.active;
  }

  /** Callers waiting for a permit. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Resolves once both a rate token and a concurrency slot are free and every earlier caller was served. */
  acquire(): Promise<Permit> {
    return new Promise<Permit>((grant) => {
      this.queue.push({ enqueuedAt: this.clock.now(), grant });
      this.pump();
    });
  }

  private pump(): void {
    for (let head = this.queue[0]; head !== undefined; head = this.queue[0]) {
      // A release() pumps again, so there is nothing to wait for here.
      if (this.active >= this.settings.concurrency) return;
      const now = this.clock.now();
      const freeAt = (this.starts[this.next] ?? Number.NEGATIVE_INFINITY) + LIMITER_WINDOW_MS;
      if (freeAt > now) {
        this.wake(freeAt - now);
        return;
      }
      this.queue.shift();
      this.starts[this.next] = now;
      this.next = (this.next + 1) % this.starts.length;
      this.active += 1;
      head.grant(this.permit(now - head.enqueuedAt));
    }
  }

  /** One timer at most: while the head waits for a token, no grant happens, so the oldest start cannot move. */
  private wake(ms: number): void {
    if (this.timerPending) return;
    this.timerPending = true;
    const onWake = (): void => {
      this.timerPending = false;
      this.pump();
    };
    // A failing sleep must not leave the flag set, or the queue would stall for good.
    void this.clock.sleep(ms).then(onWake, onWake);
  }

  private permit(waitedMs: number): Permit {
    let released = false;
    return {
      waitedMs,
      release: () => {
        if (released) return;
        released = true;
        this.active -= 1;
        this.pump();
      },
    };
  }
}
