/**
 * NumPy .npy outputs/labels arrays: the shared parser in src/io/npy.ts (float32/float64 outputs,
 * integer/bool labels, little or big endian, C order), with its errors turned into CutoffInputErrors.
 */
import { readNpyArray, type NpyArray } from "../../io/npy.js";
import { asCutoffInput } from "../errors.js";

export { writeNpy, type NpyArray } from "../../io/npy.js";

/** Parse a .npy buffer. `field` names the array in error messages (e.g. "labels" or "outputs.npy"). */
export function parseNpy(buf: Uint8Array, source: string, field = "(array)"): NpyArray {
  return asCutoffInput(source, field, () => readNpyArray(buf));
}
