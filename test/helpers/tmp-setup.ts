/**
 * vitest setupFiles entry: every test file removes its temporary directories (see ./tmp.ts) when it ends, and every
 * test ends with one turn of the event loop.
 */
import { afterAll, afterEach } from "vitest";
import { removeTempDirs } from "./tmp.js";

afterAll(removeTempDirs);

// vitest moves from one test to the next with promise continuations only, so a file of synchronous tests (the
// native-kernel comparisons: ~60 s on a loaded machine) never lets its worker read the runner's replies, and the
// run failed with "Timeout calling onTaskUpdate" (measured: one 63.5 s block across the fallback build's tests).
afterEach(() => new Promise<void>((r) => setImmediate(r)));
