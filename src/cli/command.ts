/**
 * The shape every CLI command has. Commands are thin: they parse flags, call the library, print.
 * Exit codes: 0 ok, 1 user error (bad flags, missing or malformed files), 2 internal error.
 */
import type { ParseArgsConfig } from "node:util";

export interface CliIO {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

export interface CliArgs {
  values: Record<string, unknown>;
  positionals: string[];
}

export interface CliCommand {
  name: string;
  /** One line for `spikecut --help`. */
  summary: string;
  /** The full `--help` text, with examples. */
  usage: string;
  options: NonNullable<ParseArgsConfig["options"]>;
  allowPositionals?: boolean;
  run(args: CliArgs, io: CliIO): Promise<number>;
}

/** A mistake the user can fix: printed as one line, exit code 1, never a stack trace. */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UserError";
  }
}

export const EXIT_OK = 0;
export const EXIT_USER = 1;
export const EXIT_INTERNAL = 2;

/** Reads a string flag, with a clear error naming the flag when it is missing. */
export function requireString(values: Record<string, unknown>, flag: string): string {
  const v = values[flag];
  if (typeof v !== "string" || v.length === 0) throw new UserError(`missing required flag --${flag}`);
  return v;
}

/** Parses a numeric flag, naming the flag and the allowed range on error. */
export function parseNumberFlag(
  raw: unknown,
  flag: string,
  opts: { min?: number; max?: number; integer?: boolean; minExclusive?: boolean; maxExclusive?: boolean } = {},
): number {
  const v = typeof raw === "number" ? raw : Number(raw);
  if (typeof raw === "string" && raw.trim() === "") throw new UserError(`--${flag}: expected a number, got ""`);
  if (!Number.isFinite(v)) throw new UserError(`--${flag}: expected a number, got "${String(raw)}"`);
  if (opts.integer && !Number.isInteger(v)) throw new UserError(`--${flag}: expected an integer, got ${v}`);
  const lo = opts.min;
  const hi = opts.max;
  if (lo !== undefined && (opts.minExclusive ? v <= lo : v < lo)) {
    throw new UserError(`--${flag}: ${v} is out of range, expected ${opts.minExclusive ? ">" : ">="} ${lo}`);
  }
  if (hi !== undefined && (opts.maxExclusive ? v >= hi : v > hi)) {
    throw new UserError(`--${flag}: ${v} is out of range, expected ${opts.maxExclusive ? "<" : "<="} ${hi}`);
  }
  return v;
}
