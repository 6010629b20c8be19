/** Every bench case file, in print order. Adding a file: export `cases: BenchCase[]` from it and list it here. */
import type { BenchCase } from "./types.js";
import { cases as engine } from "./engine.js";

export const allCases: BenchCase[] = [...engine];
export type { BenchCase, Prepared } from "./types.js";
import { cases as infer } from "./infer.js"; allCases.push(...infer); // inference cases (issue 6)
