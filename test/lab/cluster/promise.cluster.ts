/**
 * The promise itself (issue 13): one commit, three executors, one image (three-executors.ts), with the cluster's
 * template as `packline argo` renders it by default.
 *
 * It needs the lab's Docker daemon (started by the test) and a Dagger engine (`engine.sh up`, which reuses a running
 * one: .ci/run keeps the engine suite's up). A missing piece fails the test; nothing is skipped.
 */
import { describe, it } from "vitest";
import { threeExecutors } from "./three-executors.js";

describe("one commit, three executors, one image", () => {
  it("the cluster, the Dagger engine and the plan's own steps publish the same image for the fixture's tag", { timeout: 20 * 60_000 }, async () => {
    await threeExecutors("promise");
  });
});
