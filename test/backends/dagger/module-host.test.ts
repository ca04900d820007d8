/**
 * A registry on the user's machine (`--image localhost:5000/app`) from inside a Dagger module (`dagger call`): the
 * API the engine generates for a module has no `host()`, so no tunnel to the caller's localhost can be made there
 * (on the real engine the build failed with "dag.host is not a function"). packline refuses at once, naming the fix;
 * `packline build`, an SDK client, has `host()` and tunnels (runner.test.ts, and the real-engine suite).
 */
import { dag } from "@dagger.io/dagger";
import { describe, expect, it } from "vitest";
import { runPlan } from "../../../src/backends/dagger/runner.js";
import { PacklineError } from "../../../src/core/errors.js";
import { validateBuild } from "../../../src/core/options/validate.js";
import { planBuild } from "../../../src/core/plan/planner.js";
import { withFakeEngine } from "../../support/fake-engine.js";
import { world } from "./pipeline.js";

describe("runPlan: a registry on the user's machine, from a module (dagger call)", () => {
  it("is refused before anything reaches the engine, naming packline build as the fix", async () => {
    const plan = planBuild(validateBuild("build", { tag: "v1.0.0", image: "localhost:5000/app" }));
    expect(plan.image.target.kind).toBe("host-registry");
    const client = dag as unknown as { host?: unknown };
    const host = client.host;
    delete client.host; // what a module's generated client looks like
    try {
      await withFakeEngine({ answers: world() }, async (engine) => {
        const error = await runPlan(plan, { source: dag.directory() }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(PacklineError);
        expect((error as Error).message).toMatch(
          /^--image "localhost:5000\/app" is on localhost, which a Dagger module \(dagger call\) cannot reach: .*npx packline build/,
        );
        expect(engine.queries).toEqual([]);
      });
    } finally {
      client.host = host;
    }
  });
});
