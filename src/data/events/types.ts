/** A decoded event-camera recording: one entry per event, sorted by time as recorded. */
export type EventFormat = "nmnist" | "aedat2" | "aedat3" | "aedat4" | "npy";

export interface EventStream {
  x: Uint16Array;
  y: Uint16Array;
  /** Timestamps in microseconds (exact integers up to 2^53, so 64-bit sensor clocks fit). */
  t: Float64Array;
  /** Polarity: 1 = ON (brighter), 0 = OFF. */
  p: Uint8Array;
  width: number;
  height: number;
  meta: EventMeta;
}

export interface EventMeta {
  format: EventFormat;
  /** File the stream came from, when read from disk. */
  file?: string;
  /** Number of timestamp wrap-arounds undone while decoding. */
  wraps?: number;
  [key: string]: unknown;
}

export function makeStream(n: number, width: number, height: number, meta: EventMeta): EventStream {
  return { x: new Uint16Array(n), y: new Uint16Array(n), t: new Float64Array(n), p: new Uint8Array(n), width, height, meta };
}

/** A copy holding events [start, end) by index. */
export function sliceStream(s: EventStream, start: number, end: number): EventStream {
  return { x: s.x.slice(start, end), y: s.y.slice(start, end), t: s.t.slice(start, end), p: s.p.slice(start, end), width: s.width, height: s.height, meta: { ...s.meta } };
}

/** Events with tStart <= t < tEnd (µs); assumes t is non-decreasing. */
export function sliceByTime(s: EventStream, tStart: number, tEnd: number): EventStream {
  return sliceStream(s, lowerBound(s.t, tStart), lowerBound(s.t, tEnd));
}

export function lowerBound(a: Float64Array, v: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const m = (lo + hi) >>> 1;
    if (a[m]! < v) lo = m + 1;
    else hi = m;
  }
  return lo;
}

export interface EventStats {
  events: number;
  on: number;
  off: number;
  /** Last minus first timestamp, µs. */
  durationUs: number;
  /** Events per second (0 for an empty or instantaneous stream). */
  rate: number;
  width: number;
  height: number;
  tFirst: number | null;
  tLast: number | null;
}

export function eventStats(s: EventStream): EventStats {
  const n = s.t.length;
  let on = 0;
  for (let i = 0; i < n; i++) on += s.p[i]!;
  const tFirst = n > 0 ? s.t[0]! : null;
  const tLast = n > 0 ? s.t[n - 1]! : null;
  const durationUs = n > 0 ? tLast! - tFirst! : 0;
  return { events: n, on, off: n - on, durationUs, rate: durationUs > 0 ? n / (durationUs / 1e6) : 0, width: s.width, height: s.height, tFirst, tLast };
}

/** Checks the arrays agree in length and coordinates fit the sensor; `who` names the caller in errors. */
export function checkStream(s: EventStream, who: string): number {
  const n = s.t.length;
  if (s.x.length !== n || s.y.length !== n || s.p.length !== n) {
    throw new Error(`${who}: event arrays differ in length (x ${s.x.length}, y ${s.y.length}, t ${n}, p ${s.p.length})`);
  }
  return n;
}
