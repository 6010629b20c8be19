/** Forward multiply-accumulates per sample of the bench's networks, shared by the training and inference cases. */

/** The first layer apart: in training it needs no dx. */
export interface Macs {
  first: number;
  rest: number;
}

export const convMacs = (cin: number, cout: number, ohw: number, k = 3): number => cout * ohw * ohw * cin * k * k;

/** vgg-small on 1×28×28. */
export function vggSmallMacs(): Macs {
  const first = convMacs(1, 32, 28);
  const rest = convMacs(32, 32, 28) + convMacs(32, 64, 14) + convMacs(64, 64, 14) + 3136 * 256 + 256 * 10;
  return { first, rest };
}

/** resnet20 on 3×32×32: stem, three stages of three blocks (16, 32, 64 channels), 1×1 stride-2 shortcuts, fc. */
export function resnet20Macs(): Macs {
  let rest = 0;
  let cin = 16;
  let hw = 32;
  for (const ch of [16, 32, 64]) {
    for (let b = 0; b < 3; b++) {
      const down = b === 0 && ch !== 16;
      if (down) hw /= 2;
      rest += convMacs(cin, ch, hw) + convMacs(ch, ch, hw) + (down ? convMacs(cin, ch, hw, 1) : 0);
      cin = ch;
    }
  }
  return { first: convMacs(3, 16, 32), rest: rest + 64 * 10 };
}
