/**
 * Flag parsing shared by every command: node:util parseArgs, strict, after one rewrite (see below).
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import type { CliArgs, CliCommand } from "./command.js";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** A value such as -0.1, -3 or -.5e-2: a dash followed by a number, never a flag name. */
const NEGATIVE_NUMBER = /^-\.?\d/;

/**
 * Rewrite `--flag -0.1` (and `-f -0.1`) into `--flag=-0.1` for flags that take a value.
 * parseArgs refuses a value that starts with a dash as "ambiguous" (it might be a forgotten value followed
 * by another flag) and its multi-line hint buries the real problem; a number cannot be a flag, so it is
 * safe to attach, and the command then reports the value itself (e.g. "--epsilon: -0.1 is out of range").
 * Arguments after `--` are left alone.
 */
export function attachNegativeValues(args: readonly string[], options: Options): string[] {
  const longOf = new Map<string, string>();
  for (const [name, o] of Object.entries(options)) {
    if (o.type !== "string") continue;
    longOf.set(`--${name}`, name);
    if (o.short) longOf.set(`-${o.short}`, name);
  }
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--") {
      out.push(...args.slice(i));
      break;
    }
    const name = longOf.get(a);
    const next = args[i + 1];
    if (name !== undefined && next !== undefined && NEGATIVE_NUMBER.test(next)) {
      out.push(`--${name}=${next}`);
      i++;
    } else {
      out.push(a);
    }
  }
  return out;
}

/** Parse a command's flags the way `spikecut <command>` does. Throws parseArgs' ERR_PARSE_ARGS_* errors. */
export function parseCommandArgs(command: Pick<CliCommand, "options" | "allowPositionals">, args: readonly string[]): CliArgs {
  const parsed = parseArgs({
    args: attachNegativeValues(args, command.options),
    options: command.options,
    allowPositionals: command.allowPositionals ?? false,
    strict: true,
  });
  return { values: parsed.values as Record<string, unknown>, positionals: parsed.positionals };
}
