#!/usr/bin/env node
// Builds the native addon. Run by `npm install` and `npm run build:native`; never fails the install: when the
// build cannot succeed it prints one warning and exits 0, and spikecut runs on its TypeScript backend.
//
//   node scripts/build-native.mjs [--verbose] [--fallback] [--out <dir>]
//   SPIKECUT_NO_DNNL=1      build without oneDNN (own GEMM/conv kernels) even when libdnnl-dev is installed
//   --fallback              same as SPIKECUT_NO_DNNL=1, output in build-fallback/ (tests load both builds)
//   --out <dir>             output directory for a non-default build (default build-fallback with --fallback)
//   --if-missing            do nothing when the addon exists and is newer than native/ and binding.gyp
//                           (npm test / npm run demo call this, in case npm skipped the install script)
// The default build writes build/Release/spikecut.node; a --fallback build writes <out>/build/Release/spikecut.node.
// node-gyp compiles in a staging directory (.build-staging/ beside the output) and the finished addon is renamed into
// place, so the addon file never goes missing or half-written: node-gyp's rebuild deletes build/ first, and a test
// file or a run loading the addon in that window fell back to the TypeScript backend.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, copyFileSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const verbose = args.includes("--verbose");
const fallback = args.includes("--fallback");
const outIdx = args.indexOf("--out");
const outDir = outIdx >= 0 ? resolve(args[outIdx + 1]) : fallback ? join(root, "build-fallback") : root;

if (args.includes("--if-missing")) {
  const built = join(outDir, "build", "Release", "spikecut.node");
  if (existsSync(built)) {
    const sources = [join(root, "binding.gyp"), ...readdirSync(join(root, "native")).map((f) => join(root, "native", f))];
    const newest = Math.max(...sources.map((f) => statSync(f).mtimeMs));
    if (statSync(built).mtimeMs >= newest) process.exit(0);
  }
}

function warn(msg) {
  process.stderr.write(`spikecut: native addon not built (${msg}); spikecut will use its TypeScript backend (slower).\n`);
  process.exit(0);
}

function dnnlAvailable() {
  if (!existsSync("/usr/include/oneapi/dnnl/dnnl.hpp")) return false;
  const libDirs = ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib", "/usr/local/lib", "/usr/lib64"];
  return libDirs.some((d) => existsSync(join(d, "libdnnl.so")));
}

function nodeGyp() {
  const local = join(root, "node_modules", "node-gyp", "bin", "node-gyp.js");
  if (existsSync(local)) return [process.execPath, local];
  return ["npx", "--no-install", "node-gyp"];
}

try {
  const useDnnl = !fallback && process.env.SPIKECUT_NO_DNNL !== "1" && dnnlAvailable();
  const env = { ...process.env, SPIKECUT_DNNL: useDnnl ? "1" : "0" };
  // node-gyp builds into <cwd>/build: a staging directory of its own, pointed at native/
  const stageDir = join(outDir, ".build-staging");
  mkdirSync(stageDir, { recursive: true });
  copyFileSync(join(root, "binding.gyp"), join(stageDir, "binding.gyp"));
  env.SPIKECUT_SRC_DIR = relative(stageDir, join(root, "native"));
  // Node's own headers ship with the binary's install prefix; using them avoids a download (often offline).
  const prefix = resolve(dirname(process.execPath), "..");
  const gypArgs = ["rebuild", "--release", "-j", "2"];
  if (existsSync(join(prefix, "include", "node", "node_api.h"))) gypArgs.push(`--nodedir=${prefix}`);
  if (verbose) gypArgs.push("--verbose");
  const [cmd, ...pre] = nodeGyp();
  if (verbose) process.stderr.write(`spikecut: building native addon (${useDnnl ? "oneDNN" : "fallback kernels"}) in ${outDir}\n`);
  const r = spawnSync(cmd, [...pre, ...gypArgs], { cwd: stageDir, env, stdio: verbose ? "inherit" : "pipe", encoding: "utf8" });
  if (r.error) warn(`could not run node-gyp: ${r.error.message}`);
  if (r.status !== 0) {
    const tail = `${r.stdout ?? ""}${r.stderr ?? ""}`.split("\n").filter((l) => /error/i.test(l)).slice(0, 5).join("\n");
    warn(`node-gyp failed${tail ? `:\n${tail}\n` : ""}`);
  }
  const staged = join(stageDir, "build", "Release", "spikecut.node");
  if (!existsSync(staged)) warn(`${staged} missing after the build`);
  // a copy beside the target, then one rename over it: a process that already loaded the old addon keeps its mapping
  const built = join(outDir, "build", "Release", "spikecut.node");
  mkdirSync(dirname(built), { recursive: true });
  const tmp = `${built}.${process.pid}.tmp`;
  copyFileSync(staged, tmp);
  renameSync(tmp, built);
  rmSync(stageDir, { recursive: true, force: true });
  process.stderr.write(`spikecut: native addon built (${useDnnl ? "oneDNN" : "fallback kernels"}): ${relative(root, built)}\n`);
} catch (e) {
  warn(e instanceof Error ? e.message : String(e));
}
