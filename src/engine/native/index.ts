/**
 * Loader of the compiled addon (build/Release/spikecut.node, or SPIKECUT_NATIVE_PATH). Never throws: a missing
 * or broken addon is reported as { error } so the caller can fall back to the TypeScript backend.
 */
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Backend, Conv2dParams } from "../backend.js";

export interface NativeInfo {
  dnnl: boolean;
  dnnlVersion: string;
  isa: string;
  threads: number;
  /** 3x3 stride-1 convs on blocked16 activations run Winograd (forward and dx); off unless SPIKECUT_WINOGRAD=1. */
  winograd: boolean;
  /** Winograd's output tile edge: 2 (F(2x2, 3x3)) or 4 (F(4x4, 3x3)). */
  winogradTile: 2 | 4;
}

/** What the addon module exports (kernels have the Backend signatures). */
export interface NativeAddon extends Omit<Backend, "name" | "description"> {
  info(): NativeInfo;
  measurePeakGflops(): number;
  measureBandwidth(): number;
  /** Byte offset of the array's data past the previous 64-byte boundary. */
  misalignment(a: Float32Array): number;
  /** Turns Winograd for eligible convs on or off (default off; SPIKECUT_WINOGRAD=1 starts on). */
  setWinograd(on: boolean): void;
  /** Winograd's output tile: 2 (F(2x2, 3x3), default) or 4 (F(4x4, 3x3): faster, ~10x the rounding error; SPIKECUT_WINOGRAD_TILE=4). */
  setWinogradTile(m: 2 | 4): void;
  /** The kernel family a conv with these parameters runs on: "conv1", "winograd" or "dense". */
  convAlgorithm(p: Conv2dParams): "conv1" | "winograd" | "dense";
}

const require = createRequire(import.meta.url);

/** The package root: the nearest ancestor of this file holding package.json (src/ in dev, dist/src/ when built). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "binding.gyp"))) return dir;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
}

export function defaultAddonPath(): string {
  return join(packageRoot(), "build", "Release", "spikecut.node");
}

const cache = new Map<string, { addon: NativeAddon } | { error: string }>();

/**
 * Threading defaults, set before the addon (and with it libgomp, which reads its environment once when it is
 * loaded) comes in. OpenMP workers sleep instead of spinning when idle (OMP_WAIT_POLICY=passive): on a machine
 * whose cores are shared with other processes a spinning worker burns its scheduler share and is then descheduled
 * in the middle of the next kernel, so every barrier waits for a whole time slice (medians of 8 ms instead of
 * 1.8 ms for a 512^3 GEMM with other jobs running). A user's own OMP_WAIT_POLICY or GOMP_SPINCOUNT wins.
 */
function setThreadingDefaults(): void {
  if (process.env.OMP_WAIT_POLICY === undefined && process.env.GOMP_SPINCOUNT === undefined) {
    process.env.OMP_WAIT_POLICY = "passive";
  }
}

/** Loads (once per path) the raw addon module. */
export function loadAddon(path?: string): { addon: NativeAddon } | { error: string } {
  const p = resolve(path ?? process.env.SPIKECUT_NATIVE_PATH ?? defaultAddonPath());
  const hit = cache.get(p);
  if (hit) return hit;
  let r: { addon: NativeAddon } | { error: string };
  if (!existsSync(p)) {
    r = { error: `addon not built (${p} missing; run npm run build:native)` };
  } else {
    try {
      setThreadingDefaults();
      r = { addon: require(p) as NativeAddon };
    } catch (e) {
      r = { error: `cannot load ${p}: ${(e as Error).message}` };
    }
  }
  cache.set(p, r);
  return r;
}

export function describe(info: NativeInfo): string {
  const lib = info.dnnl ? `oneDNN ${info.dnnlVersion}` : "fallback kernels";
  const wino = info.dnnl && info.winograd && info.isa === "avx512_core" ? ", Winograd 3x3" : "";
  return `native (${lib}, ${info.isa}, ${info.threads} thread${info.threads === 1 ? "" : "s"}${wino})`;
}

/** The addon wrapped as a Backend; path defaults to SPIKECUT_NATIVE_PATH or build/Release/spikecut.node. */
export function loadNativeBackend(path?: string): { backend: Backend } | { error: string } {
  const r = loadAddon(path);
  if ("error" in r) return r;
  const a = r.addon;
  let info: NativeInfo;
  try {
    info = a.info();
  } catch (e) {
    return { error: `addon info() failed: ${(e as Error).message}` };
  }
  const backend: Backend = {
    name: "native",
    description: describe(info),
    gemm: a.gemm,
    reorderBlocked16: a.reorderBlocked16,
    conv2dLayouts: a.conv2dLayouts,
    conv2dForward: a.conv2dForward,
    conv2dBackwardData: a.conv2dBackwardData,
    conv2dBackwardWeights: a.conv2dBackwardWeights,
    conv2dBackward: a.conv2dBackward,
    maxPool2dForward: a.maxPool2dForward,
    maxPool2dBackward: a.maxPool2dBackward,
    avgPool2dForward: a.avgPool2dForward,
    avgPool2dBackward: a.avgPool2dBackward,
    batchNormTrainForward: a.batchNormTrainForward,
    batchNormBackward: a.batchNormBackward,
    channelAffine: a.channelAffine,
    neuronForward: a.neuronForward,
    neuronBackward: a.neuronBackward,
    add: a.add,
    mul: a.mul,
    axpby: a.axpby,
    relu: a.relu,
    reluBackward: a.reluBackward,
    thresholdActForward: a.thresholdActForward,
    dropoutMask: a.dropoutMask,
    neuronStep: a.neuronStep,
    thresholdActBackward: a.thresholdActBackward,
    sum: a.sum,
    dot: a.dot,
    rowSums: a.rowSums,
    scaleRows: a.scaleRows,
    rcsAnnForward: a.rcsAnnForward,
    rcsSnnForward: a.rcsSnnForward,
    rcsSnnBackward: a.rcsSnnBackward,
    sgdStep: a.sgdStep,
    adamStep: a.adamStep,
  };
  return { backend };
}

/** Addon info (ISA, oneDNN, threads), or null when the addon does not load. */
export function nativeInfo(path?: string): NativeInfo | null {
  const r = loadAddon(path);
  if ("error" in r) return null;
  try {
    return r.addon.info();
  } catch {
    return null;
  }
}

/** Peak FP32 GFLOP/s and copy GB/s measured by the addon (bench), or null without it. */
export function nativeMeasure(path?: string): { peakGflops: number; bandwidthGBs: number } | null {
  const r = loadAddon(path);
  if ("error" in r) return null;
  return { peakGflops: r.addon.measurePeakGflops(), bandwidthGBs: r.addon.measureBandwidth() };
}

/**
 * Opt-in Winograd for 3x3 / stride-1 / padding-1 convs on blocked activations (forward and the input gradient; from
 * 12x12 and 32 channels): tile 2 = F(2x2, 3x3), rounding as close to the reference as the direct kernels; tile 4 =
 * F(4x4, 3x3), fewer multiplications, about ten times the rounding error. Off by default (SPIKECUT_WINOGRAD=1 /
 * SPIKECUT_WINOGRAD_TILE=4 set it at start-up). Returns false when the native oneDNN build is not loaded (no effect).
 */
export function setWinograd(on: boolean, tile: 2 | 4 = 2): boolean {
  const r = loadAddon();
  if ("error" in r || !r.addon.info().dnnl) return false;
  r.addon.setWinograd(on);
  r.addon.setWinogradTile(tile);
  return true;
}
