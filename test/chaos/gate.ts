// A gate the chaos clients pass for each request: closing it waits until no request is in flight.

export class Gate {
  private closed: { promise: Promise<void>; release: () => void } | undefined;
  private inFlight = 0;
  private idle: Array<() => void> = [];

  /** Runs `work` once the gate is open, counting it as in flight until it settles. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    while (this.closed) await this.closed.promise;
    this.inFlight++;
    try {
      return await work();
    } finally {
      this.inFlight--;
      if (this.inFlight === 0) for (const wake of this.idle.splice(0)) wake();
    }
  }

  /** Stops new requests and resolves when those in flight have finished. */
  async close(): Promise<void> {
    if (!this.closed) {
      let release: () => void = () => undefined;
      const promise = new Promise<void>((resolve) => {
        release = resolve;
      });
      this.closed = { promise, release };
    }
    if (this.inFlight > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  open(): void {
    const closed = this.closed;
    this.closed = undefined;
    closed?.release();
  }
}
