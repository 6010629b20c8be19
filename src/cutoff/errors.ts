import { BinaryFormatError } from "../io/errors.js";

/**
 * One-line, user-facing input errors: always name the file, the field and what was expected.
 * The CLI prints `err.message` and exits non-zero; no stack trace is ever shown for these.
 */
export class CutoffInputError extends Error {
  readonly file: string;
  readonly field: string;
  readonly expected: string;
  constructor(file: string, field: string, expected: string, got?: string) {
    const msg = `${file}: field "${field}": expected ${expected}${got !== undefined ? `, got ${got}` : ""}`;
    super(msg.replace(/\s*\n\s*/g, " "));
    this.name = "CutoffInputError";
    this.file = file;
    this.field = field;
    this.expected = expected;
  }
}

/**
 * Run a low-level binary reader (src/io), rethrowing its format errors as a CutoffInputError for `file`:
 * the field is the archive member the problem is in, else `field`; `expected` overrides the reader's wording.
 */
export function asCutoffInput<T>(file: string, field: string, read: () => T, expected?: string): T {
  try {
    return read();
  } catch (e) {
    if (!(e instanceof BinaryFormatError)) throw e;
    throw new CutoffInputError(file, e.entry ?? field, expected ?? e.expected, e.got);
  }
}

/** Bad arguments to a library call (e.g. epsilon outside [0, 1)). */
export class CutoffArgumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CutoffArgumentError";
  }
}

/** Short human description of a value for error messages. */
export function describeValue(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (typeof v === "number") return String(v);
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v);
  return typeof v;
}

/** Validate an epsilon (miscoverage / 1 - confidence): a finite number in [0, 1). */
export function checkEpsilon(eps: number, where = "epsilon"): number {
  if (typeof eps !== "number" || !Number.isFinite(eps) || eps < 0 || eps >= 1) {
    throw new CutoffArgumentError(`${where}: expected a number in [0, 1), got ${String(eps)}`);
  }
  return eps;
}
