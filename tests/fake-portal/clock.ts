// The fake's clock: real time plus an offset that tests move forward (`POST /_fake/clock {advance}`).
export class FakeClock {
  private offsetMs = 0;
  nowMs(): number {
    return Date.now() + this.offsetMs;
  }
  nowSec(): number {
    return Math.floor(this.nowMs() / 1000);
  }
  advance(seconds: number): void {
    this.offsetMs += seconds * 1000;
  }
  iso(ms = this.nowMs()): string {
    return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "+00:00");
  }
}
