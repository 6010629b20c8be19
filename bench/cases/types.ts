/** A bench case: how to build it, how much work one run does, and which PyTorch script times its peer. */
export interface BenchCase {
  /** op_shape_pass, e.g. conv2d_64x32x14x14_k3_fwd_bwd; --case filters by substring. */
  name: string;
  /** compute: gflops/peak_pct against the FMA peak; memory: gbps/pct against the measured copy bandwidth. */
  kind: "compute" | "memory";
  /** FLOPs per run (compute) or minimal bytes moved per run (memory). */
  work: number;
  /** File in bench/torch/ that understands `--cases <name,...>`; omit when there is no PyTorch peer. */
  torch?: string;
  /** Builds inputs (outside the timing) and returns the function to time. */
  setup(): Promise<Prepared> | Prepared;
}

export interface Prepared {
  run: () => void;
  /** op: through the public ops (framework overhead included); kernel: a raw backend call. */
  level: "op" | "kernel";
  /** Extra fields for the JSON line. */
  extra?: Record<string, unknown>;
}
