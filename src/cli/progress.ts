/**
 * Progress bars for long CLI steps: drawn on stderr only when it is a terminal, silent otherwise (CI logs, pipes).
 */
import cliProgress from "cli-progress";

/** Returns an update function (done, total); the bar starts on the first call and stops when done reaches total. */
export function progressBar(label: string, enabled = true): (done: number, total: number) => void {
  if (!enabled || !process.stderr.isTTY) return () => {};
  let bar: cliProgress.SingleBar | null = null;
  return (done, total) => {
    if (!bar) {
      bar = new cliProgress.SingleBar(
        { format: `${label.padEnd(20)} [{bar}] {percentage}% | {value}/{total} | {rate}/s | ETA {eta_formatted}`, stream: process.stderr, hideCursor: true },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, 0, { rate: "-" });
      (bar as unknown as { t0: number }).t0 = performance.now();
    }
    const elapsed = (performance.now() - (bar as unknown as { t0: number }).t0) / 1000;
    bar.update(done, { rate: elapsed > 0 ? Math.round(done / elapsed) : "-" });
    if (done >= total) bar.stop();
  };
}
