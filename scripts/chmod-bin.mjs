#!/usr/bin/env node
// Makes the compiled CLI entry executable (tsc does not keep the mode); silent when it was not built.
import { chmodSync, existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const bin = join(resolve(dirname(fileURLToPath(import.meta.url)), ".."), "dist", "cli", "main.js");
if (existsSync(bin)) chmodSync(bin, 0o755);
