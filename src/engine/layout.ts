/**
 * Whether convolutions write their outputs blocked16 when the backend takes that layout natively (the oneDNN
 * path), so the batch norms, neurons, activations and average pooling after them work on nChw16c and the next
 * convolution reads it without a reorder. On by default; SPIKECUT_LAYOUT=plain or setBlockedActivations(false)
 * keeps every activation NCHW (each conv then reorders in and out on its own). A conv whose input is already
 * blocked16 keeps its output blocked either way. Results agree with the plain path to float rounding (the
 * reductions sum in a different order), not bit for bit.
 */
let blocked = process.env.SPIKECUT_LAYOUT !== "plain";

export function blockedActivations(): boolean {
  return blocked;
}

export function setBlockedActivations(on: boolean): void {
  blocked = on;
}
