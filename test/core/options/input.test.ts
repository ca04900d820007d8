import { describe, expect, it } from "vitest";
import { checkInput, enumValue } from "../../../src/core/options/input.js";
import { flagOf, helpOf, OPTIONS, optionsOf } from "../../../src/core/options/table.js";
import { packlineError } from "../../support/errors.js";

describe("the option table", () => {
  it("names every option once, with help for every command that takes it", () => {
    const names = OPTIONS.map((o) => o.name);
    expect(new Set(names).size).toBe(names.length);
    for (const option of OPTIONS) for (const command of option.commands) expect(helpOf(option, command)).toMatch(/\.$/);
  });
  it("flags are the kebab-case of the names", () => {
    expect(flagOf("registryUsername")).toBe("--registry-username");
    expect(flagOf("podGc")).toBe("--pod-gc");
  });
  it("front ends: Dagger's context directory, the CLI's output options", () => {
    expect(optionsOf("build", "dagger").map((o) => o.name)).toContain("context");
    expect(optionsOf("build", "cli").map((o) => o.name)).not.toContain("context");
    expect(optionsOf("build", "cli").map((o) => o.name)).toContain("sbomDir");
    expect(optionsOf("argo", "cli").map((o) => o.name)).toContain("output");
    expect(optionsOf("argo", "dagger").map((o) => o.name)).not.toContain("output");
  });
  it("defaults are applied; unknown names are a caller's bug", () => {
    expect(checkInput("argo", { repo: "https://h/a/b", image: "a/b" })).toMatchObject({
      kind: "workflow-template",
      executor: "creator",
      retries: 2,
      workspaceSize: "2Gi",
      podGc: "OnPodSuccess",
      env: [],
    });
    // @ts-expect-error: not an option; the types refuse it, and so does checkInput for a caller the compiler does not see.
    expect(() => checkInput("plan", { nope: "x" })).toThrow("internal: plan has no option nope");
  });
  it("enum values", () => {
    const podGc = OPTIONS.find((o) => o.name === "podGc")!;
    expect(enumValue(podGc, "NONE")).toBe("none");
    expect(packlineError(() => enumValue(podGc, "sometimes")).message).toBe(
      '--pod-gc "sometimes" does not exist: choose one of OnPodSuccess, OnPodCompletion, OnWorkflowSuccess, OnWorkflowCompletion, none.',
    );
  });
});
