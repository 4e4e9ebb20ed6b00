/**
 * Caps how many log lines of one kind are written per window, so that a flood of bad
 * requests cannot turn into a flood of log lines; the number left out is reported with the
 * first line of the next window. Counting every request stays the metrics' job.
 */
export class LogThrottle {
  private windowStart = -Infinity;
  private written = 0;
  private suppressed = 0;

  constructor(
    private readonly perWindow: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Undefined: skip this line. Otherwise write it, with `suppressed` when lines were left out. */
  admit(): { suppressed: number } | undefined {
    const now = this.now();
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.written = 0;
    }
    if (this.written >= this.perWindow) {
      this.suppressed++;
      return undefined;
    }
    this.written++;
    const suppressed = this.suppressed;
    this.suppressed = 0;
    return { suppressed };
  }
}
