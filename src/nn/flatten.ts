import type { Tensor } from "../engine/tensor.js";
import { Module } from "./module.js";

/** Flattens every axis from startAxis on (default 1: keeps the batch axis). */
export class Flatten extends Module {
  constructor(readonly startAxis = 1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return x.flatten(this.startAxis);
  }
}
