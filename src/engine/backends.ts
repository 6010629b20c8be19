/**
 * Which backend runs the kernels. The native addon is used when it loads; otherwise spikecut says so once on
 * stderr and runs on the TypeScript reference backend. SPIKECUT_BACKEND=js|native forces a choice.
 */
import type { Backend } from "./backend.js";
import { jsBackend } from "./js/backend.js";
import { loadNativeBackend } from "./native/index.js";

let active: Backend | null = null;
let nativeCache: Backend | null | undefined;
let nativeError = "";
let warned = false;

/** The native backend, or null (with the reason in nativeLoadError()) when the addon cannot load. */
export function tryNativeBackend(): Backend | null {
  if (nativeCache === undefined) {
    const r = loadNativeBackend();
    if ("error" in r) {
      nativeCache = null;
      nativeError = r.error;
    } else nativeCache = r.backend;
  }
  return nativeCache;
}

export function nativeLoadError(): string {
  tryNativeBackend();
  return nativeError;
}

export function getBackend(): Backend {
  if (active) return active;
  const forced = process.env.SPIKECUT_BACKEND;
  if (forced === "js") return (active = jsBackend);
  const native = tryNativeBackend();
  if (native) return (active = native);
  if (forced === "native") throw new Error(`SPIKECUT_BACKEND=native but the addon cannot load: ${nativeError}`);
  if (!warned) {
    warned = true;
    process.stderr.write(`spikecut: native addon unavailable (${nativeError}); using the TypeScript backend (slower)\n`);
  }
  return (active = jsBackend);
}

/** Selects a backend for the rest of the process (tests switch to compare the two). */
export function setBackend(which: "js" | "native" | Backend): Backend {
  if (typeof which !== "string") return (active = which);
  if (which === "js") return (active = jsBackend);
  const native = tryNativeBackend();
  if (!native) throw new Error(`native backend unavailable: ${nativeError}`);
  return (active = native);
}

/** Runs fn with the given backend active, then restores the previous one. */
export function withBackend<T>(which: "js" | "native" | Backend, fn: () => T): T {
  const prev = active;
  setBackend(which);
  try {
    return fn();
  } finally {
    active = prev;
  }
}
