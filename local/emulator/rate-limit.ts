// Server-side limits per endpoint and operation class: a sliding-window request count plus an in-flight cap.

export type LimitVerdict = 'ok' | 'rate' | 'concurrency';

export class WindowLimiter {
  /** Start times of the accepted requests still inside the window, oldest first from `head`. */
  private starts: number[] = [];
  private head = 0;
  private inFlight = 0;

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    readonly concurrent: number,
  ) {}

  /** Takes a slot when both limits allow; a refused request costs nothing (it does not count). */
  tryAcquire(now: number): LimitVerdict {
    if (this.inFlight >= this.concurrent) return 'concurrency';
    if (Number.isFinite(this.limit)) {
      while (this.head < this.starts.length && (this.starts[this.head] ?? 0) <= now - this.windowMs)
        this.head++;
      // Compact now and then so the array does not grow without bound.
      if (this.head > 1024 && this.head * 2 > this.starts.length) {
        this.starts = this.starts.slice(this.head);
        this.head = 0;
      }
      if (this.starts.length - this.head >= this.limit) return 'rate';
      this.starts.push(now);
    }
    this.inFlight++;
    return 'ok';
  }

  release(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
  }
}
