import type { Clock } from "../../../common/clock.js";

/**
 * Swift's X-Timestamp ("1700000000.12345", 10 digits of seconds and 5 of fraction, so they
 * sort as text). Each call is later than the last, as two writes of one name must order.
 */
export class Timestamps {
  private last = 0;
  constructor(private readonly clock: Clock) {}

  next(): string {
    let t = Math.floor(this.clock.now().getTime() * 100); // units of 10 µs
    if (t <= this.last) t = this.last + 1;
    this.last = t;
    return formatTimestamp(t / 100_000);
  }

  nowSeconds(): number {
    return this.clock.now().getTime() / 1000;
  }
}

export function formatTimestamp(seconds: number): string {
  return seconds.toFixed(5).padStart(16, "0");
}

/** Last-Modified: the timestamp rounded up to the second, as an HTTP date (Swift does ceil). */
export function httpDate(ts: string): string {
  return new Date(Math.ceil(Number(ts)) * 1000).toUTCString();
}

/** Listing's last_modified: ISO 8601 with microseconds and no zone ("2024-01-01T00:00:00.123450"). */
export function isoTimestamp(ts: string): string {
  const secs = Number(ts);
  const whole = Math.floor(secs);
  const micro = Math.round((secs - whole) * 1e6);
  // Listings format thousands of timestamps, mostly of few distinct seconds.
  if (whole !== isoSecond) {
    isoSecond = whole;
    isoPrefix = new Date(whole * 1000).toISOString().slice(0, 19);
  }
  return `${isoPrefix}.${String(micro).padStart(6, "0")}`;
}
let isoSecond = -1;
let isoPrefix = "";

/** Parse an HTTP date (If-Modified-Since …) to unix seconds; undefined when it is not one. */
export function parseHttpDate(v: string | undefined): number | undefined {
  if (!v) return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t / 1000;
}
