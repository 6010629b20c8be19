/** Every bench case file, in print order. Adding a file: export `cases: BenchCase[]` from it and list it here. */
import type { BenchCase } from "./types.js";
import { cases as engine } from "./engine.js";
import { cases as train } from "./train.js";
import { cases as cutoff } from "./cutoff.js";
import { cases as data } from "./data.js";
import { cases as infer } from "./infer.js";

export const allCases: BenchCase[] = [...engine, ...train, ...cutoff, ...data, ...infer];
export type { BenchCase, Prepared } from "./types.js";
