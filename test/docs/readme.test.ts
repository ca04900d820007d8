import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { README, readmeWithOptions } from "../../scripts/readme-options.js";
import { flagOf, OPTIONS } from "../../src/core/options/table.js";

describe("README", () => {
  const readme = readFileSync(README, "utf8");
  it("its option tables are what the option table generates (npm run generate)", () => {
    expect(readme).toBe(readmeWithOptions(readme));
  });
  it("names every option's flag", () => {
    for (const option of OPTIONS) expect(readme).toContain(flagOf(option.name));
  });
  it("shows every argument packline plan prints for the creator (How the build runs)", () => {
    for (const arg of [
      "-app=/workspace",
      "-layers=/layers",
      "-platform=/platform",
      "-cache-dir=/cache",
      "-cache-image=",
      // the run image the check pinned (pin.ts), as the lifecycle's env
      "CNB_RUN_IMAGE",
      "-order=/platform/order.toml",
      "-skip-restore",
      "-insecure-registry=",
      "-report=/layers/report.toml",
      "-log-level=info",
      "-no-color",
      ":packline-staging",
    ]) {
      expect(readme).toContain(arg);
    }
  });
});
