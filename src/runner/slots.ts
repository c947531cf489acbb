// `concurrency:`: at most N checks in flight. A 1,000-check config against
// refused, silent and healthy targets would otherwise open 1,000+ sockets at
// once and meet the open-files limit (EMFILE) — a failure of infra-check
// that reads like the network's. Waiters are served in order; a wait ends at
// the run's deadline (the check then starts with no budget and says the
// deadline cut it), so queueing never makes a run outlive its deadline.
export class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly size: number) {
    this.free = size;
  }

  /** Resolves with a release function once a slot is free, or after `waitMs` (with a no-op release). */
  acquire(waitMs: number): Promise<() => void> {
    if (this.free > 0) {
      this.free -= 1;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve) => {
      const grant = () => {
        clearTimeout(timer);
        resolve(this.releaser());
      };
      const timer = setTimeout(() => {
        const index = this.waiting.indexOf(grant);
        if (index >= 0) this.waiting.splice(index, 1);
        resolve(() => undefined);
      }, waitMs);
      this.waiting.push(grant);
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.free += 1;
    };
  }
}
