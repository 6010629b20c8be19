/**
 * The one error type of the low-level binary readers (ZIP, NPY). It carries two renderings of the same
 * problem so that each caller can keep its own message style without re-deriving anything:
 *  - `message` (= `detail`): a self-contained sentence, e.g. `truncated data: shape (100) needs 1300 bytes, 1299 present`;
 *  - `expected` / `got`: the same problem as an expectation, e.g. `1300 data bytes for shape (100) <f4` / `1299`.
 * `entry` names the archive member the problem is in (ZIP only; absent for archive-level problems).
 * Callers wrap it at their boundary (cutoff → CutoffInputError, data → DataFormatError).
 */
export class BinaryFormatError extends Error {
  readonly detail: string;
  readonly expected: string;
  readonly got: string | undefined;
  readonly entry: string | undefined;
  constructor(detail: string, expected: string, got?: string, entry?: string) {
    super(detail);
    this.name = "BinaryFormatError";
    this.detail = detail;
    this.expected = expected;
    this.got = got;
    this.entry = entry;
  }
}
