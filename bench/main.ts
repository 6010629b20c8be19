/**
 * spikecut bench: one JSON object per line.
 *   first line: machine, measured FP32 peak and copy bandwidth, active backend, PyTorch peer settings
 *   one line per case: {"case","ours_ms","torch_ms","ratio","gflops","peak_pct","level",...}
 *   last line: peak RSS of this process
 * Usage: node dist/bench/main.js [--case <substring>]... [--no-torch] [--budget <seconds per side per case>]
 *        [--rounds <n>]
 * Each case is timed in rounds (default 5): per round the machine's FMA peak (and copy bandwidth), then a share
 * of the budget of our runs, then the same of PyTorch's (a peer process kept alive across rounds). Times are the
 * median of the rounds' medians; peak_pct compares each round with the peak measured in that round. On a shared
 * host whose speed drifts within seconds, alternating this finely puts both sides (and the peak) under the same
 * load, which one block per side did not.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createInterface } from "node:readline";
import { existsSync, readFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { clearPool, getBackend } from "../src/engine/index.js";
import { nativeMeasure } from "../src/engine/native/index.js";
import { allCases } from "./cases/index.js";

const here = dirname(fileURLToPath(import.meta.url));
// Works from bench/ (tsx) and from dist/bench/ (compiled).
const torchDir = [join(here, "torch"), resolve(here, "../../bench/torch")].find((d) => existsSync(d)) ?? join(here, "torch");

function parseArgs(argv: string[]): { filters: string[]; torch: boolean; budget: number; rounds: number } {
  const filters: string[] = [];
  let torch = true;
  let budget = 1.5;
  let rounds = 5;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--case") filters.push(argv[++i] ?? "");
    else if (a.startsWith("--case=")) filters.push(a.slice(7));
    else if (a === "--no-torch") torch = false;
    else if (a === "--budget") budget = Number(argv[++i]);
    else if (a === "--rounds") rounds = Number(argv[++i]);
    else if (a === "--help" || a === "-h") {
      process.stdout.write("usage: node dist/bench/main.js [--case <substring>]... [--no-torch] [--budget <s>] [--rounds <n>]\n");
      process.exit(0);
    } else {
      process.stderr.write(`bench: unknown argument ${a}\n`);
      process.exit(2);
    }
  }
  if (!(Number.isFinite(budget) && budget > 0)) fail(`--budget expects seconds > 0, got ${budget}`);
  if (!(Number.isInteger(rounds) && rounds >= 1)) fail(`--rounds expects an integer >= 1, got ${rounds}`);
  return { filters, torch, budget, rounds };
}

function fail(msg: string): never {
  process.stderr.write(`bench: ${msg}\n`);
  process.exit(2);
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

/** CPU time the hypervisor gave to other guests (steal) and the total, in jiffies, from /proc/stat; null elsewhere. */
function cpuTimes(): { steal: number; total: number } | null {
  try {
    const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
    return { steal: f[7] ?? 0, total: f.reduce((a, b) => a + b, 0) };
  } catch {
    return null;
  }
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

function timeOurs(run: () => void, budget: number, minRuns: number, warmup: number): { median: number; min: number } {
  for (let i = 0; i < warmup; i++) run();
  let t0 = performance.now();
  run();
  const one = Math.max(performance.now() - t0, 1e-3);
  const runs = Math.max(minRuns, Math.min(200, Math.floor((budget * 1000) / one)));
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    t0 = performance.now();
    run();
    times.push(performance.now() - t0);
  }
  return { median: median(times), min: Math.min(...times) };
}

/** One long-lived PyTorch peer per script, answering one JSON line per request (common.py's --serve). */
class TorchPeer {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly lines: AsyncIterator<string>;
  private dead: string | null = null;

  constructor(script: string, env: NodeJS.ProcessEnv) {
    this.proc = spawn(PYTHON, [join(torchDir, script), "--serve", "--threads", "2"], { env });
    let stderr = "";
    this.proc.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    this.proc.on("exit", (code) => (this.dead = `exited with code ${code}: ${stderr.split("\n").slice(-3).join(" ")}`));
    this.proc.stdin.on("error", () => undefined);
    this.lines = createInterface({ input: this.proc.stdout })[Symbol.asyncIterator]();
  }

  async round(name: string, budget: number, minRuns: number, warmup: number): Promise<Timing | null> {
    if (this.dead) return null;
    this.proc.stdin.write(JSON.stringify({ case: name, budget, min_runs: minRuns, warmup }) + "\n");
    for (;;) {
      const next = await this.lines.next();
      if (next.done) {
        process.stderr.write(`bench: torch peer for ${name} ${this.dead ?? "closed its output"}\n`);
        return null;
      }
      try {
        const o = JSON.parse(next.value) as { case?: string; torch_ms?: number; torch_min_ms?: number; torch_layout?: string; torch_ms_by_layout?: Record<string, number> };
        if (o.case !== name) continue;
        if (typeof o.torch_ms !== "number") return null;
        return { median: o.torch_ms, min: o.torch_min_ms ?? o.torch_ms, layout: o.torch_layout, byLayout: o.torch_ms_by_layout };
      } catch {
        /* not a JSON line */
      }
    }
  }

  close(): void {
    this.proc.stdin.end();
  }
}

/** The median of the rounds' medians (per PyTorch memory format when it ran several) and the fastest single run. */
function combineTorch(rounds: Timing[]): Timing | null {
  if (rounds.length === 0) return null;
  const min = Math.min(...rounds.map((r) => r.min));
  const layouts = Object.keys(rounds[0]!.byLayout ?? {});
  if (layouts.length === 0) return { median: median(rounds.map((r) => r.median)), min };
  const byLayout: Record<string, number> = {};
  for (const l of layouts) byLayout[l] = median(rounds.map((r) => r.byLayout?.[l] ?? Number.NaN).filter(Number.isFinite));
  const layout = layouts.reduce((a, b) => (byLayout[b]! < byLayout[a]! ? b : a));
  return { median: byLayout[layout]!, min, layout, byLayout: Object.fromEntries(layouts.map((l) => [l, Number(byLayout[l]!.toFixed(3))])) };
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

  const peers = new Map<string, TorchPeer>();
  const peerFor = (script: string): TorchPeer => {
    let p = peers.get(script);
    if (!p) peers.set(script, (p = new TorchPeer(script, torch!.env)));
    return p;
  };
  const share = args.budget / args.rounds;
  // at least 20 timed runs per side in all, as when each side ran in one block
  const minRuns = Math.max(3, Math.ceil(20 / args.rounds));
  for (const [ci, c] of selected.entries()) {
    // a peer no later case needs ends now (its processes and the tensors it keeps would only add load and memory)
    for (const [script, p] of peers)
      if (!selected.slice(ci).some((d) => d.torch === script)) {
        p.close();
        peers.delete(script);
      }
    const prep = await c.setup();
    const cpu0 = cpuTimes();
    const ours: { median: number; min: number }[] = [];
    const torchRounds: Timing[] = [];
    const pcts: number[] = [];
    for (let r = 0; r < args.rounds; r++) {
      const m = backend.name === "native" ? nativeMeasure() : null;
      const o = timeOurs(prep.run, share, minRuns, r === 0 ? 3 : 1);
      ours.push(o);
      const roundRate = c.work / (o.median * 1e-3) / 1e9;
      if (m) pcts.push((100 * roundRate) / (c.kind === "compute" ? m.peakGflops : m.bandwidthGBs));
      if (c.torch && torch?.version) {
        const t = await peerFor(c.torch).round(c.name, share, minRuns, r === 0 ? 3 : 1);
        if (t) torchRounds.push(t);
      }
    }
    const cpu1 = cpuTimes();
    const oursMs = median(ours.map((o) => o.median));
    const torchT = torchRounds.length === args.rounds ? combineTorch(torchRounds) : null;
    const torchMs = torchT?.median ?? null;
    const rate = c.work / (oursMs * 1e-3) / 1e9; // GFLOP/s or GB/s
    const perRound = torchT ? ours.map((o, i) => torchRounds[i]!.median / o.median) : null;
    const pct = pcts.length ? median(pcts) : null;
    const line: Record<string, unknown> = {
      case: c.name,
      ours_ms: round(oursMs),
      torch_ms: round(torchMs),
      ratio: torchMs === null ? null : round(torchMs / oursMs, 2),
      gflops: c.kind === "compute" ? round(rate, 1) : null,
      // each round's rate against the peak measured just before it, median over the rounds
      peak_pct: c.kind === "compute" ? round(pct, 1) : null,
      level: prep.level,
      // Fastest single run of each side: less sensitive to other processes on a shared machine than the median.
      ours_min_ms: round(Math.min(...ours.map((o) => o.min))),
      torch_min_ms: round(torchT?.min ?? null),
      rounds: args.rounds,
      // how far the comparison moves while the machine's load changes, and its median: each round compares the two
      // sides under the same load, which the ratio of the two medians (the contract's `ratio`) does not guarantee
      ratio_by_round: perRound?.map((q) => round(q, 2)) ?? null,
      ratio_paired: perRound ? round(median(perRound), 2) : null,
      // share of this VM's CPU time the hypervisor gave to other guests while the case ran (both sides alike):
      // above a few percent, absolute times are inflated and medians noisy
      steal_pct: cpu0 && cpu1 && cpu1.total > cpu0.total ? round((100 * (cpu1.steal - cpu0.steal)) / (cpu1.total - cpu0.total), 1) : null,
    };
    if (torchT?.layout) {
      line.torch_layout = torchT.layout;
      line.torch_ms_by_layout = torchT.byLayout;
    }
    if (c.kind === "memory") {
      line.gbps = round(rate, 1);
      line.bandwidth_pct = round(pct, 1);
    }
    Object.assign(line, prep.extra ?? {});
    // resident memory at the end of the case, then the pool's idle buffers go: the cases are independent workloads,
    // and without this the peak RSS below was the sum of every earlier case's cached activations (up to the pool's
    // 3 GB idle limit) rather than what any one of them needs
    line.rss_mb = round(process.memoryUsage().rss / 2 ** 20, 0);
    process.stdout.write(JSON.stringify(line) + "\n");
    clearPool();
  }
  for (const p of peers.values()) p.close();
  process.stdout.write(JSON.stringify({ peak_rss_mb: round(process.resourceUsage().maxRSS / 1024, 1) }) + "\n");
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
