// The fake's clock: real time plus an offset that tests move forward (`POST /_fake/clock {advance}`), and the zone
// its portals answer in. Bitrix24 writes dates in the portal's time zone with that zone's offset, never in UTC
// (b24restdocs api-reference/crm/status/crm-status-list.md: `"date_start": "2025-07-10T14:15:47+03:00"`;
// crm/universal/category/crm-category-list.md: `+02:00`): the fake's portals sit at UTC+03:00 unless a test moves
// them (`utcOffsetMinutes`). A fixed offset: no daylight saving time.
const pad = (n: number) => String(Math.floor(n)).padStart(2, "0");

export class FakeClock {
  private offsetMs = 0;
  /** the portals' zone as minutes east of UTC (+180 = Moscow) */
  utcOffsetMinutes = 180;
  nowMs(): number {
    return Date.now() + this.offsetMs;
  }
  nowSec(): number {
    return Math.floor(this.nowMs() / 1000);
  }
  advance(seconds: number): void {
    this.offsetMs += seconds * 1000;
  }
  /** An instant as Bitrix24 writes it: local time in the portal's zone plus its offset (`2026-11-30T10:02:00+03:00`). */
  iso(ms = this.nowMs()): string {
    const local = new Date(ms + this.utcOffsetMinutes * 60_000).toISOString().slice(0, 19);
    const abs = Math.abs(this.utcOffsetMinutes);
    return `${local}${this.utcOffsetMinutes < 0 ? "-" : "+"}${pad(abs / 60)}:${pad(abs % 60)}`;
  }
}
