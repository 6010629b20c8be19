/**
 * Shared flag parsing (src/cli/args.ts): negative numbers as separate arguments of value-taking flags.
 * The binary end to end: binary.test.ts.
 */
import { describe, expect, it } from "vitest";
import { attachNegativeValues, parseCommandArgs } from "../../src/cli/args.js";

const options = {
  epsilon: { type: "string", short: "e", multiple: true },
  shift: { type: "string" },
  json: { type: "boolean" },
} as const;

describe("attachNegativeValues", () => {
  it("attaches a negative number to the long or short value-taking flag before it", () => {
    expect(attachNegativeValues(["--epsilon", "-0.1", "-e", "-.5", "--shift", "-3e-2"], options)).toEqual(["--epsilon=-0.1", "--epsilon=-.5", "--shift=-3e-2"]);
    expect(parseCommandArgs({ options }, ["--epsilon", "-0.1", "-e", "-2"]).values).toEqual({ epsilon: ["-0.1", "-2"] });
  });
  it("leaves everything else to parseArgs", () => {
    const untouched = [
      ["--epsilon=-0.1"], // already attached
      ["--shift", "--json"], // a flag is not a value: still ambiguous
      ["--shift", "-x"], // neither is anything else that starts with a dash
      ["--json", "-1"], // a boolean flag takes no value
      ["--", "--shift", "-1"], // after the terminator
      ["--epsilon"], // missing value
    ];
    for (const args of untouched) expect(attachNegativeValues(args, options)).toEqual(args);
    expect(() => parseCommandArgs({ options }, ["--shift", "--json"])).toThrow(/ambiguous/);
  });
});
