/** Shared setup for the CLI command tests (calibrate, infer). */
import { beforeAll, expect, it } from "vitest";
import type { CliCommand } from "../../src/cli/command.js";
import { runCli, tinyAnn, tinySnnCheckpoint } from "../inference/helpers.js";

/** The tiny QCFS ANN checkpoint and its converted SNN checkpoint, built once before the suite's tests run. */
export function useTinyCheckpoints(): { readonly ann: string; readonly snn: string } {
  const paths = { ann: "", snn: "" };
  beforeAll(async () => {
    paths.ann = (await tinyAnn()).checkpoint;
    paths.snn = await tinySnnCheckpoint();
  });
  return paths;
}

/** The "--help has usage and examples" test of `spikecut <name>`. */
export function itHasHelp(command: CliCommand, name: string): void {
  it("--help has usage and examples", async () => {
    const r = await runCli(command, ["--help"]);
    expect(r.stdout).toMatch(new RegExp(`usage: spikecut ${name}`));
    expect(r.stdout).toMatch(/examples:/);
  });
}
