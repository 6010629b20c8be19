/**
 * Progress bars for long counted work (data preparation, event integration and emulation, CLI steps), shared by
 * the CLI, the trainer's data loading and the data layer: drawn on stderr only when it is a terminal, silent
 * otherwise, so logs and pipes stay clean. (Downloads show bytes and the trainer shows loss: they have their own.)
 */
import cliProgress from "cli-progress";

export type ProgressUpdate = ((done: number, total: number) => void) & { stop: () => void };

/**
 * Returns an update function (done, total); the bar starts on the first call and stops when done reaches total,
 * or when `stop()` is called (work that ends early or fails).
 */
export function progressBar(label: string, enabled = true): ProgressUpdate {
  if (!enabled || !process.stderr.isTTY) return Object.assign(() => {}, { stop: () => {} });
  let bar: cliProgress.SingleBar | null = null;
  let t0 = 0;
  const update = (done: number, total: number): void => {
    if (!bar) {
      bar = new cliProgress.SingleBar(
        { format: `${label.padEnd(20)} [{bar}] {percentage}% | {value}/{total} | {rate}/s | ETA {eta_formatted}`, stream: process.stderr, hideCursor: true },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, 0, { rate: "-" });
      t0 = performance.now();
    }
    const elapsed = (performance.now() - t0) / 1000;
    bar.update(done, { rate: elapsed > 0 ? Math.round(done / elapsed) : "-" });
    if (done >= total) {
      bar.stop();
      bar = null;
    }
  };
  return Object.assign(update, { stop: () => bar?.stop() });
}
