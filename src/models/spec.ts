/**
 * JSON model specification: a flat list of layers whose channel counts and spatial sizes are inferred from the
 * input shape, so a spec only states what a paper's table states. Validation happens in two passes, each
 * error naming the layer index and field: the schema (zod; unknown types, bad fields) and the shapes
 * (a linear fed a feature map, a kernel larger than its input, a missing output layer).
 *
 * "act" is the route-dependent activation: ReLU / QCFS / ClipReLU in an ANN, LIF / IF in an SNN.
 * "bn" is BatchNorm2d on feature maps (TEBN in a TEBN SNN) and BatchNorm1d on vectors.
 */
import { z } from "zod";

const int = (min: number) => z.number().int().min(min);
const pairSchema = z.union([int(1), z.tuple([int(1), int(1)])]);
const padSchema = z.union([int(0), z.tuple([int(0), int(0)])]);

const layerSchemas = {
  conv: z.strictObject({
    type: z.literal("conv"),
    out: int(1),
    kernel: pairSchema,
    stride: pairSchema.optional(),
    padding: padSchema.optional(),
    groups: int(1).optional(),
    bias: z.boolean().optional(),
  }),
  bn: z.strictObject({ type: z.literal("bn") }),
  act: z.strictObject({ type: z.literal("act") }),
  avgpool: z.strictObject({ type: z.literal("avgpool"), kernel: pairSchema, stride: pairSchema.optional(), padding: padSchema.optional() }),
  maxpool: z.strictObject({ type: z.literal("maxpool"), kernel: pairSchema, stride: pairSchema.optional(), padding: padSchema.optional() }),
  adaptiveavgpool: z.strictObject({ type: z.literal("adaptiveavgpool") }),
  flatten: z.strictObject({ type: z.literal("flatten") }),
  linear: z.strictObject({ type: z.literal("linear"), out: z.union([int(1), z.literal("classes")]), bias: z.boolean().optional() }),
  dropout: z.strictObject({ type: z.literal("dropout"), p: z.number().min(0).lt(1) }),
  block: z.strictObject({ type: z.literal("block"), out: int(1), stride: int(1).optional() }),
} as const;

export type LayerType = keyof typeof layerSchemas;
export const LAYER_TYPES = Object.keys(layerSchemas) as LayerType[];

export const layerSpecSchema = z.discriminatedUnion("type", Object.values(layerSchemas) as unknown as [
  (typeof layerSchemas)["conv"], ...(typeof layerSchemas)[Exclude<LayerType, "conv">][],
]);
export type LayerSpec = z.infer<typeof layerSpecSchema>;
export type ConvSpec = z.infer<(typeof layerSchemas)["conv"]>;
export type PoolSpec = z.infer<(typeof layerSchemas)["avgpool"]> | z.infer<(typeof layerSchemas)["maxpool"]>;

const modelSchema = z.strictObject({
  name: z.string().min(1),
  /** [C, H, W] the spec was designed for; buildModel may override it. */
  inputShape: z.tuple([int(1), int(1), int(1)]).optional(),
  /** Conv weight init: Kaiming-normal fan_out with zero bias (VGG, spec §7) or PyTorch's default (ResNet). */
  convInit: z.enum(["kaiming_fan_out", "torch"]).optional(),
  /** Zero the Linear biases (spec §7 VGG init). */
  zeroLinearBias: z.boolean().optional(),
  layers: z.array(z.unknown()).min(1),
});

export interface ModelSpec {
  name: string;
  inputShape?: [number, number, number];
  convInit?: "kaiming_fan_out" | "torch";
  zeroLinearBias?: boolean;
  layers: LayerSpec[];
}

export class ModelSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ModelSpecError";
  }
}

function fmtIssues(where: string, err: z.ZodError): string {
  return err.issues
    .map((i) => `${where}${i.path.length ? `.${i.path.join(".")}` : ""}: ${i.message}`)
    .join("; ");
}

/** Validates an untrusted (parsed JSON) spec; throws ModelSpecError naming the layer index and field. */
export function parseModelSpec(raw: unknown, source = "model spec"): ModelSpec {
  const top = modelSchema.safeParse(raw);
  if (!top.success) throw new ModelSpecError(`${source}: ${fmtIssues("", top.error).replace(/^: /, "").replace(/^\./, "")}`);
  const layers: LayerSpec[] = top.data.layers.map((l, i) => {
    const where = `layers[${i}]`;
    if (typeof l !== "object" || l === null || Array.isArray(l)) throw new ModelSpecError(`${source}: ${where} must be an object with a "type"`);
    const type = (l as { type?: unknown }).type;
    if (typeof type !== "string" || !(type in layerSchemas)) {
      throw new ModelSpecError(`${source}: ${where}.type: unknown layer type ${JSON.stringify(type)}; expected one of ${LAYER_TYPES.join(", ")}`);
    }
    const r = layerSchemas[type as LayerType].safeParse(l);
    if (!r.success) throw new ModelSpecError(`${source}: ${fmtIssues(`${where} (${type})`, r.error)}`);
    return r.data as LayerSpec;
  });
  return { ...top.data, layers } as ModelSpec;
}

// ---- shape inference ----------------------------------------------------------------------------------------

export type FeatureShape = number[]; // [C, H, W] or [F]

const asPair = (v: number | [number, number] | undefined, d: number): [number, number] =>
  v === undefined ? [d, d] : typeof v === "number" ? [v, v] : v;

export function convOut(size: number, k: number, s: number, p: number): number {
  return Math.floor((size + 2 * p - k) / s) + 1;
}

/**
 * Input and output shape (per sample) of every layer; throws ModelSpecError naming the layer on a mismatch.
 * The last layer must be the linear output layer (no neuron on the output, spec §1).
 */
export function inferShapes(spec: ModelSpec, inputShape: FeatureShape, numClasses: number): { input: FeatureShape; output: FeatureShape }[] {
  const out: { input: FeatureShape; output: FeatureShape }[] = [];
  let shape = [...inputShape];
  const fail = (i: number, msg: string): never => {
    throw new ModelSpecError(`${spec.name}: layers[${i}] (${spec.layers[i]!.type}): ${msg}`);
  };
  const needMap = (i: number): [number, number, number] => {
    if (shape.length !== 3) fail(i, `needs a feature map [C, H, W] but gets [${shape.join(", ")}]`);
    return shape as [number, number, number];
  };
  spec.layers.forEach((l, i) => {
    const input = [...shape];
    switch (l.type) {
      case "conv": {
        const [c, h, w] = needMap(i);
        const [kh, kw] = asPair(l.kernel, 1);
        const [sh, sw] = asPair(l.stride, 1);
        const [ph, pw] = asPair(l.padding, 0);
        const g = l.groups ?? 1;
        if (c % g || l.out % g) fail(i, `groups=${g} does not divide ${c} input / ${l.out} output channels`);
        const oh = convOut(h, kh, sh, ph);
        const ow = convOut(w, kw, sw, pw);
        if (oh < 1 || ow < 1) fail(i, `kernel ${kh}x${kw} (padding ${ph},${pw}) does not fit the ${h}x${w} input`);
        shape = [l.out, oh, ow];
        break;
      }
      case "avgpool":
      case "maxpool": {
        const [c, h, w] = needMap(i);
        const [kh, kw] = asPair(l.kernel, 1);
        const [sh, sw] = asPair(l.stride ?? l.kernel, 1);
        const [ph, pw] = asPair(l.padding, 0);
        const oh = convOut(h, kh, sh, ph);
        const ow = convOut(w, kw, sw, pw);
        if (oh < 1 || ow < 1) fail(i, `kernel ${kh}x${kw} does not fit the ${h}x${w} input`);
        shape = [c, oh, ow];
        break;
      }
      case "adaptiveavgpool": {
        const [c] = needMap(i);
        shape = [c, 1, 1];
        break;
      }
      case "flatten":
        shape = [shape.reduce((a, b) => a * b, 1)];
        break;
      case "linear": {
        if (shape.length !== 1) fail(i, `needs a flat input but gets [${shape.join(", ")}]; add {"type": "flatten"} before it`);
        const o = l.out === "classes" ? numClasses : l.out;
        shape = [o];
        break;
      }
      case "block": {
        const [, h, w] = needMap(i);
        const s = l.stride ?? 1;
        const oh = convOut(h, 3, s, 1);
        const ow = convOut(w, 3, s, 1);
        shape = [l.out, oh, ow];
        break;
      }
      case "bn":
      case "act":
      case "dropout":
        break;
    }
    out.push({ input, output: [...shape] });
  });
  const last = spec.layers.length - 1;
  const ll = spec.layers[last]!;
  if (ll.type !== "linear") fail(last, `the last layer must be the linear output layer (outputs are analog, spec §1)`);
  if (shape[0] !== numClasses) fail(last, `outputs ${shape[0]} values but numClasses is ${numClasses}; use "out": "classes"`);
  return out;
}
