import { describe, expect, it } from "vitest";
import { parseQuantity } from "../../src/core/quantity.js";
import { packlineError } from "../support/errors.js";

describe("parseQuantity: Kubernetes quantities as the API server reads them", () => {
  it.each([
    ["500m", 0.5],
    ["2", 2],
    ["0.5", 0.5],
    [".5", 0.5],
    ["1Ki", 1024],
    ["1Gi", 2 ** 30],
    ["1G", 1e9],
    ["1e3", 1000],
    ["1E3", 1000],
    ["100n", 1e-7],
    ["+1", 1],
    ["0", 0],
  ])("%s = %d", (value, expected) => {
    expect(parseQuantity("--x", value, "1")).toBeCloseTo(expected, 12);
  });

  it("compares across units (1Gi > 1G; 1500Mi < 2Gi)", () => {
    expect(parseQuantity("--x", "1Gi", "1")).toBeGreaterThan(parseQuantity("--x", "1G", "1"));
    expect(parseQuantity("--x", "1500Mi", "1")).toBeLessThan(parseQuantity("--x", "2Gi", "1"));
  });

  it.each(["", "1gi", "-1", "1.5.5", "Gi", "1 Gi", "1Gb", "0x10", "500mm"])("refuses %j", (value) => {
    expect(packlineError(() => parseQuantity("--memory-limit", value, "512Mi")).message).toBe(
      `--memory-limit ${JSON.stringify(value)} is not a Kubernetes quantity: e.g. 512Mi.`,
    );
  });
});
