/**
 * spikecut bench: one JSON object per line.
 *   first line: machine, measured FP32 peak and copy bandwidth, active backend, PyTorch peer settings
 *   one line per case: {"case","ours_ms","torch_ms","ratio","gflops","peak_pct","level",...}
 *   last line: peak RSS of this process
 * Usage: node dist/bench/main.js [--case <substring>]... [--no-torch] [--budget <seconds per side per case>]
 * Each side runs a few warm-ups, then the median of many warm runs; our side and PyTorch's alternate per case
 * so that load from other processes hits both alike.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { getBackend } from "../src/engine/index.js";
import { nativeMeasure } from "../src/engine/native/index.js";
import { allCases, type BenchCase } from "./cases/index.js";

const here = dirname(fileURLToPath(import.meta.url));
// Works from bench/ (tsx) and from dist/bench/ (compiled).
const torchDir = [join(here, "torch"), resolve(here, "../../bench/torch")].find((d) => existsSync(d)) ?? join(here, "torch");

function parseArgs(argv: string[]): { filters: string[]; torch: boolean; budget: number } {
  const filters: string[] = [];
  let torch = true;
  let budget = 1.5;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--case") filters.push(argv[++i] ?? "");
    else if (a.startsWith("--case=")) filters.push(a.slice(7));
    else if (a === "--no-torch") torch = false;
    else if (a === "--budget") budget = Number(argv[++i]);
    else if (a === "--help" || a === "-h") {
      process.stdout.write("usage: node dist/bench/main.js [--case <substring>]... [--no-torch] [--budget <s>]\n");
      process.exit(0);
    } else {
      process.stderr.write(`bench: unknown argument ${a}\n`);
      process.exit(2);
    }
  }
  return { filters, torch, budget };
}

function cpuFlags(): { vendor: string; flags: Set<string>; model: string } {
  try {
    const txt = readFileSync("/proc/cpuinfo", "utf8");
    const get = (k: string): string => new RegExp(`^${k}\\s*:\\s*(.*)$`, "m").exec(txt)?.[1] ?? "";
    return { vendor: get("vendor_id"), flags: new Set(get("flags").split(/\s+/)), model: get("model name") };
  } catch {
    return { vendor: "", flags: new Set(), model: cpus()[0]?.model ?? "unknown" };
  }
}

const PYTHON = "/usr/bin/python3";

function torchSetup(): { env: NodeJS.ProcessEnv; settings: Record<string, string | number>; version: string | null; why?: string } {
  const cpu = cpuFlags();
  const settings: Record<string, string | number> = {
    torch_threads: 2,
    MALLOC_TRIM_THRESHOLD_: "1073741824",
    MALLOC_MMAP_THRESHOLD_: "33554432",
  };
  // OpenBLAS 0.3.21 takes this Xeon for a Prescott (SSE3 kernels); name its real family when it is an AVX-512 Intel.
  if (cpu.vendor === "GenuineIntel" && cpu.flags.has("avx512f")) settings.OPENBLAS_CORETYPE = "Cooperlake";
  // The same OpenMP wait policy as our side (spikecut defaults to passive: idle workers sleep, which keeps medians
  // sane when the cores are shared); PyTorch's libgomp gets it too.
  if (process.env.GOMP_SPINCOUNT === undefined) settings.OMP_WAIT_POLICY = process.env.OMP_WAIT_POLICY ?? "passive";
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [k, v] of Object.entries(settings)) if (k !== "torch_threads") env[k] = String(v);
  if (!existsSync(PYTHON)) return { env, settings, version: null, why: `${PYTHON} not found` };
  const r = spawnSync(PYTHON, ["-c", "import torch; print(torch.__version__)"], { env, encoding: "utf8" });
  if (r.status !== 0) return { env, settings, version: null, why: "torch not importable by /usr/bin/python3 (apt-get install -y python3-torch)" };
  return { env, settings, version: r.stdout.trim() };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

interface Timing {
  median: number;
  min: number;
  /** PyTorch conv cases: the memory format whose median counted, and each format's median. */
  layout?: string;
  byLayout?: Record<string, number>;
}

function timeOurs(run: () => void, budget: number): Timing {
  for (let i = 0; i < 3; i++) run();
  let t0 = performance.now();
  run();
  const one = Math.max(performance.now() - t0, 1e-3);
  const runs = Math.max(20, Math.min(200, Math.floor((budget * 1000) / one)));
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    t0 = performance.now();
    run();
    times.push(performance.now() - t0);
  }
  return { median: median(times), min: Math.min(...times) };
}

function timeTorch(c: BenchCase, env: NodeJS.ProcessEnv, budget: number): Timing | null {
  if (!c.torch) return null;
  const r = spawnSync(PYTHON, [join(torchDir, c.torch), "--cases", c.name, "--threads", "2"], {
    env: { ...env, SPIKECUT_BENCH_BUDGET: String(budget) },
    encoding: "utf8",
  });
  if (r.status !== 0) {
    process.stderr.write(`bench: torch peer for ${c.name} failed: ${r.stderr.split("\n").slice(-3).join(" ")}\n`);
    return null;
  }
  for (const line of r.stdout.split("\n")) {
    try {
      const o = JSON.parse(line) as { case?: string; torch_ms?: number; torch_min_ms?: number; torch_layout?: string; torch_ms_by_layout?: Record<string, number> };
      if (o.case === c.name && typeof o.torch_ms === "number") {
        return { median: o.torch_ms, min: o.torch_min_ms ?? o.torch_ms, layout: o.torch_layout, byLayout: o.torch_ms_by_layout };
      }
    } catch {
      /* not a JSON line */
    }
  }
  return null;
}

const round = (x: number | null, d = 3): number | null => (x === null || !Number.isFinite(x) ? null : Number(x.toFixed(d)));

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const selected = allCases.filter((c) => args.filters.length === 0 || args.filters.some((f) => c.name.includes(f)));
  const backend = getBackend();
  // Other processes can steal a core while the peak is measured; take the best of a few tries so peak_pct is
  // not inflated by an unlucky measurement.
  let measured = backend.name === "native" ? nativeMeasure() : null;
  for (let i = 0; measured && i < 2; i++) {
    const again = nativeMeasure()!;
    measured = { peakGflops: Math.max(measured.peakGflops, again.peakGflops), bandwidthGBs: Math.max(measured.bandwidthGBs, again.bandwidthGBs) };
  }
  const torch = args.torch ? torchSetup() : null;
  const cpu = cpuFlags();
  process.stdout.write(JSON.stringify({
    info: "spikecut bench",
    machine: { cpu: cpu.model, logical_cpus: cpus().length, avx512: cpu.flags.has("avx512f"), amx: cpu.flags.has("amx_bf16") },
    backend: backend.description,
    threads: Number(process.env.SPIKECUT_THREADS ?? 2),
    peak_gflops: round(measured?.peakGflops ?? null, 1),
    bandwidth_gbps: round(measured?.bandwidthGBs ?? null, 1),
    torch: torch ? { version: torch.version, settings: torch.settings, python: PYTHON, ...(torch.why ? { unavailable: torch.why } : {}) } : "disabled (--no-torch)",
    cases: selected.map((c) => c.name),
  }) + "\n");

  for (const c of selected) {
    const prep = await c.setup();
    const oursT = timeOurs(prep.run, args.budget);
    const torchT = torch?.version ? timeTorch(c, torch.env, args.budget) : null;
    const ours = oursT.median;
    const torchMs = torchT?.median ?? null;
    const rate = c.work / (ours * 1e-3) / 1e9; // GFLOP/s or GB/s
    const line: Record<string, unknown> = {
      case: c.name,
      ours_ms: round(ours),
      torch_ms: round(torchMs),
      ratio: torchMs === null ? null : round(torchMs / ours, 2),
      gflops: c.kind === "compute" ? round(rate, 1) : null,
      peak_pct: c.kind === "compute" && measured ? round((100 * rate) / measured.peakGflops, 1) : null,
      level: prep.level,
      // Fastest single run of each side: less sensitive to other processes on a shared machine than the median.
      ours_min_ms: round(oursT.min),
      torch_min_ms: round(torchT?.min ?? null),
    };
    if (torchT?.layout) {
      line.torch_layout = torchT.layout;
      line.torch_ms_by_layout = torchT.byLayout;
    }
    if (c.kind === "memory") {
      line.gbps = round(rate, 1);
      line.bandwidth_pct = measured ? round((100 * rate) / measured.bandwidthGBs, 1) : null;
    }
    Object.assign(line, prep.extra ?? {});
    process.stdout.write(JSON.stringify(line) + "\n");
  }
  process.stdout.write(JSON.stringify({ peak_rss_mb: round(process.resourceUsage().maxRSS / 1024, 1) }) + "\n");
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
