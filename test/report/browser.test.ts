/**
 * The HTML report renders in a real browser (Debian's headless Chromium) with no network: the example report is
 * screenshotted and the PNG must show more than a blank page.
 */
import { describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { PNG } from "pngjs";
import { makeTempDir, trackChild } from "../helpers/tmp.js";

const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));

function screenshot(html: string, png: string): Promise<number> {
  const profile = makeTempDir("spikecut-chromium-");
  const args = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", `--user-data-dir=${profile}`, `--screenshot=${png}`,
    "--window-size=1200,1400", `file://${html}`,
  ];
  return new Promise((done) => {
    const child = trackChild(spawn(CHROMIUM!, args, { stdio: "ignore" }));
    const timer = setTimeout(() => child.kill("SIGKILL"), 90_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      done(code ?? -1);
    });
  });
}

describe.skipIf(!CHROMIUM)("HTML report in headless Chromium", () => {
  it("renders the example report offline (charts drawn, not a blank page)", async () => {
    const png = join(makeTempDir("spikecut-shot-"), "report.png");
    const code = await screenshot(resolve("docs/example-report/report.html"), png);
    expect(code).toBe(0);
    const img = PNG.sync.read(readFileSync(png));
    expect(img.width).toBe(1200);
    // count distinct colours in a coarse sample: a rendered report with SVG charts has many, a blank page one
    const colours = new Set<number>();
    for (let y = 0; y < img.height; y += 7) {
      for (let x = 0; x < img.width; x += 7) {
        const i = (y * img.width + x) * 4;
        colours.add((img.data[i]! << 16) | (img.data[i + 1]! << 8) | img.data[i + 2]!);
      }
    }
    expect(colours.size).toBeGreaterThan(20);
  });
});
