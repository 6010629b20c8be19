import type { Tensor } from "../engine/tensor.js";
import { relu } from "../engine/index.js";
import { Module } from "./module.js";

export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}
