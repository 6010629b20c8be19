/**
 * Progress reporting for long data preparations (integrating thousands of recordings, emulating a dataset).
 * Callers pass either a callback (the CLI's and the trainer's bars) or `true` for this module's own bar, which,
 * like the CLI's, is drawn on stderr only when stderr is a terminal, so logs and pipes stay clean.
 */
import { progressBar } from "../io/progress.js";

export type ProgressFn = (done: number, total: number) => void;
export type ProgressOption = boolean | ProgressFn | undefined;

/** A reporter for `option` (null when there is nothing to report to); call `done()` when the work ends or fails. */
export function progressReporter(option: ProgressOption, label: string): (ProgressFn & { done: () => void }) | null {
  if (typeof option === "function") return Object.assign((d: number, t: number) => option(d, t), { done: () => {} });
  if (!option || !process.stderr.isTTY) return null;
  const bar = progressBar(label);
  return Object.assign((d: number, t: number) => bar(d, t), { done: () => bar.stop() });
}
