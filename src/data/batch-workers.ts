/**
 * Worker threads that assemble batches from a dataset held in a SharedArrayBuffer (read by all, copied never).
 * A job is (sample indices, augmentation plan); the answer is a fresh Float32Array, transferred back (no copy).
 *
 * Answers come back on a MessagePort per worker, and the worker then bumps its slot in a shared Int32Array. So the
 * caller can wait either asynchronously (Atomics.waitAsync: the async loader) or synchronously (Atomics.wait +
 * receiveMessageOnPort), which is what lets the trainer, whose step loop never yields to the event loop, take
 * prefetched batches without becoming async. The kernels are the self-contained functions of transforms.ts and
 * event-augment.ts, shipped to the worker as source.
 *
 * Idle workers are unref'd (they never keep the process alive); a worker is ref'd only while an async caller waits
 * on it. close() terminates them.
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from "node:worker_threads";
import { assembleFrameBatch } from "./transforms.js";
import { assembleEventBatch } from "./event-augment.js";

export type BatchWorkerData =
  | { kind: "frame"; sab: SharedArrayBuffer; C: number; H: number; W: number; pad: number; cut: number; mean: number[]; invStd: number[] }
  | { kind: "event"; sab: SharedArrayBuffer; T: number; H: number; W: number; timeMajor: boolean };

const WORKER_SOURCE = () => `
const { parentPort, workerData } = require("node:worker_threads");
const __name = (f) => f;
${assembleFrameBatch.toString()}
${assembleEventBatch.toString()}
const { data: d, port, signal, slot } = workerData;
const mean = Float32Array.from(d.mean || []);
const invStd = Float32Array.from(d.invStd || []);
const data = d.kind === "frame" ? new Uint8Array(d.sab) : new Float32Array(d.sab);
parentPort.on("message", (m) => {
  try {
    const out = new Float32Array(m.size);
    if (d.kind === "frame") assembleFrameBatch(data, d.C, d.H, d.W, m.indices, m.plan, d.pad, d.cut, mean, invStd, out);
    else assembleEventBatch(data, d.T, d.H, d.W, m.indices, m.plan, out, d.timeMajor);
    port.postMessage({ id: m.id, out }, [out.buffer]);
  } catch (e) {
    port.postMessage({ id: m.id, error: String((e && e.stack) || e) });
  }
  // after the post: a waiter that saw the old count and found no message is woken by this
  Atomics.add(signal, slot, 1);
  Atomics.notify(signal, slot);
});
`;

/** Atomics.waitAsync (Node ≥ 16; typed from ES2024 on, past this project's ES2022 lib). */
const waitAsync = (Atomics as unknown as {
  waitAsync(a: Int32Array, i: number, v: number, ms: number): { async: false; value: "not-equal" | "timed-out" } | { async: true; value: Promise<"ok" | "timed-out"> };
}).waitAsync;

/** A worker that neither answers nor fails for this long is taken as lost (a batch takes milliseconds). */
const STALL_MS = 120_000;

interface Slot {
  worker: Worker;
  port: MessagePort;
  waiters: number;
}

type Answer = { id: number; out?: Float32Array; error?: string };

export class BatchWorkers {
  private readonly slots: Slot[] = [];
  private readonly signal: Int32Array;
  private readonly owner = new Map<number, number>();
  private readonly answers = new Map<number, Answer>();
  private readonly dropped = new Set<number>();
  private failure: Error | null = null;
  private nextId = 0;
  private rr = 0;

  constructor(count: number, data: BatchWorkerData) {
    if (!Number.isInteger(count) || count < 1) throw new Error(`BatchWorkers: count must be a positive integer, got ${count}`);
    this.signal = new Int32Array(new SharedArrayBuffer(4 * count));
    const src = WORKER_SOURCE();
    for (let slot = 0; slot < count; slot++) {
      const { port1, port2 } = new MessageChannel();
      const worker = new Worker(src, { eval: true, workerData: { data, port: port2, signal: this.signal, slot }, transferList: [port2] });
      worker.on("error", (e) => (this.failure = new Error(`data loader worker ${slot} failed: ${e.message}`)));
      worker.unref();
      this.slots.push({ worker, port: port1, waiters: 0 });
    }
  }

  get size(): number {
    return this.slots.length;
  }

  /** Queues a job on the next worker (round robin); returns its id. */
  submit(indices: Int32Array, plan: Int32Array | null, size: number): number {
    const id = this.nextId++;
    const slot = this.rr++ % this.slots.length;
    this.owner.set(id, slot);
    this.slots[slot]!.worker.postMessage({ id, indices, plan, size });
    return id;
  }

  /** The job's result is not wanted (a prefetch that guessed wrong): it is dropped when it arrives. */
  drop(id: number): void {
    if (this.answers.delete(id)) this.owner.delete(id);
    else if (this.owner.has(id)) this.dropped.add(id);
  }

  /** Blocks the calling thread until the job's batch is ready. */
  takeSync(id: number): Float32Array {
    const slot = this.slotOf(id);
    let deadline = Date.now() + STALL_MS;
    for (;;) {
      const seen = Atomics.load(this.signal, slot);
      const got = this.collect(slot, id);
      if (got) return got;
      if (Atomics.wait(this.signal, slot, seen, 1000) !== "timed-out") deadline = Date.now() + STALL_MS;
      else this.checkAlive(slot, deadline);
    }
  }

  /** Waits without blocking the event loop. */
  async take(id: number): Promise<Float32Array> {
    const slot = this.slotOf(id);
    const s = this.slots[slot]!;
    let deadline = Date.now() + STALL_MS;
    for (;;) {
      const seen = Atomics.load(this.signal, slot);
      const got = this.collect(slot, id);
      if (got) return got;
      // a waiting caller must keep the process alive until the answer comes
      if (s.waiters++ === 0) s.worker.ref();
      try {
        const w = waitAsync(this.signal, slot, seen, 1000);
        const r = w.async ? await w.value : w.value;
        if (r !== "timed-out") deadline = Date.now() + STALL_MS;
        else this.checkAlive(slot, deadline);
      } finally {
        if (--s.waiters === 0) s.worker.unref();
      }
    }
  }

  async close(): Promise<void> {
    const slots = this.slots.splice(0);
    for (const s of slots) s.port.close();
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private slotOf(id: number): number {
    const slot = this.owner.get(id);
    if (slot === undefined) throw new Error(`BatchWorkers: no job ${id} is pending`);
    if (this.slots.length === 0) throw new Error("BatchWorkers: the workers were closed");
    return slot;
  }

  /** Drains the worker's port; returns the wanted job's batch once it is there. */
  private collect(slot: number, id: number): Float32Array | null {
    for (let m = receiveMessageOnPort(this.slots[slot]!.port); m; m = receiveMessageOnPort(this.slots[slot]!.port)) {
      const a = m.message as Answer;
      if (this.dropped.delete(a.id)) this.owner.delete(a.id);
      else this.answers.set(a.id, a);
    }
    const a = this.answers.get(id);
    if (!a) return null;
    this.answers.delete(id);
    this.owner.delete(id);
    if (a.error) throw new Error(`data loader worker: ${a.error}`);
    return a.out!;
  }

  private checkAlive(slot: number, deadline: number): void {
    if (this.failure) throw this.failure;
    if (Date.now() > deadline) throw new Error(`data loader worker ${slot} gave no answer for ${STALL_MS / 1000} s`);
  }
}
