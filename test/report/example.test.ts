import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { renderHtml, renderMarkdown, reportToJson, writeReport } from "../../src/report/index.js";
import { EXAMPLE_DIR, buildExampleReport } from "./example.js";

describe("example report (docs/example-report)", () => {
  const report = buildExampleReport();
  test.runIf(process.env.SPIKECUT_WRITE_EXAMPLE === "1")("regenerate", () => {
    writeReport(EXAMPLE_DIR, report);
  });
  test("committed files are up to date", () => {
    expect(readFileSync(join(EXAMPLE_DIR, "report.json"), "utf8")).toBe(reportToJson(report));
    expect(readFileSync(join(EXAMPLE_DIR, "report.md"), "utf8")).toBe(renderMarkdown(report));
    expect(readFileSync(join(EXAMPLE_DIR, "report.html"), "utf8")).toBe(renderHtml(report));
  });
});
