/** speedUps (spec §10): T / mean timestep, and the fixed timestep reaching the same accuracy / mean timestep. */
import { describe, expect, test } from "vitest";
import { speedUps } from "../../src/cutoff/index.js";

describe("speedUps", () => {
  test("smallest fixed t whose acc(t) reaches the cutoff accuracy", () => {
    // acc(t) = .5 .7 .8 .9, cutoff accuracy .75 at mean t 2: t=3 is the first with acc >= .75
    const s = speedUps([0.5, 0.7, 0.8, 0.9], 0.75, 2);
    expect(s.vs_max_timestep).toBe(4 / 2);
    expect(s.equal_accuracy_timestep).toBe(3);
    expect(s.vs_equal_accuracy).toBe(3 / 2);
  });
  test("never reached by any fixed t: null, not T", () => {
    // cutoff can beat every fixed t (acc(t) is not monotone in general): .95 > max acc(t)
    const s = speedUps([0.5, 0.9, 0.8, 0.85], 0.95, 2.5);
    expect(s.vs_max_timestep).toBe(4 / 2.5);
    expect(s.equal_accuracy_timestep).toBeNull();
    expect(s.vs_equal_accuracy).toBeNull();
  });
  test("reached already at t=1", () => {
    const s = speedUps([0.6, 0.7, 0.8], 0.6, 1.5);
    expect(s.equal_accuracy_timestep).toBe(1);
    expect(s.vs_equal_accuracy).toBeCloseTo(1 / 1.5, 15);
    expect(s.vs_max_timestep).toBe(3 / 1.5);
  });
  test("ties: equality counts, and the first of several equal acc(t) wins", () => {
    // acc(2) = acc(3) = acc(5) = .8 = the cutoff accuracy; acc(4) dips below
    const s = speedUps([0.7, 0.8, 0.8, 0.75, 0.8], 0.8, 4);
    expect(s.equal_accuracy_timestep).toBe(2);
    expect(s.vs_equal_accuracy).toBe(2 / 4);
    expect(s.vs_max_timestep).toBe(5 / 4);
  });
  test("ties up to rounding: accuracies from the same counts compare equal", () => {
    // 0.1 + 0.2 = 0.30000000000000004 > 0.3 in doubles; acc(2) = 0.3 must still count as reaching it
    const s = speedUps([0.2, 0.3, 0.4], 0.1 + 0.2, 2);
    expect(s.equal_accuracy_timestep).toBe(2);
    expect(s.vs_equal_accuracy).toBe(1);
  });
  test("the first t that reaches, not a later one, when acc(t) is not monotone", () => {
    const s = speedUps([0.4, 0.9, 0.6, 0.95], 0.85, 1.8);
    expect(s.equal_accuracy_timestep).toBe(2);
    expect(s.vs_equal_accuracy).toBeCloseTo(2 / 1.8, 15);
  });
});
