// npm run build: the CLI entry must be executable for `npm link` / bin shims on a fresh clone.
import { chmodSync, existsSync } from "node:fs";
const bin = new URL("../dist/src/cli/main.js", import.meta.url);
if (existsSync(bin)) chmodSync(bin, 0o755);
