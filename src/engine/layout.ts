/**
 * Whether convolutions write their outputs blocked16 when the backend takes that layout natively (the oneDNN
 * path). Off by default for now (SPIKECUT_LAYOUT=blocked16 or setBlockedActivations(true) turns it on); off, every
 * activation stays NCHW and each conv reorders on its own. A conv whose input is already blocked16 keeps its
 * output blocked either way.
 */
let blocked = process.env.SPIKECUT_LAYOUT === "blocked16";

export function blockedActivations(): boolean {
  return blocked;
}

export function setBlockedActivations(on: boolean): void {
  blocked = on;
}
