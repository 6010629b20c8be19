/** vitest setupFiles entry: every test file removes its temporary directories (see ./tmp.ts) when it ends. */
import { afterAll } from "vitest";
import { removeTempDirs } from "./tmp.js";

afterAll(removeTempDirs);
