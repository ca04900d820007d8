/**
 * Issue 21: `packline argo --build-user` naming the builder's own CNB user gave another final digest than a build
 * without it (the build-inputs label digested the option's spelling). The promise of promise.cluster.ts (one commit,
 * three executors, one image: three-executors.ts), with the cluster's template rendered with `--build-user <the lab
 * builder's CNB_USER_ID:CNB_GROUP_ID>`: the cluster, `packline build --repo` on the real Dagger engine (which has no
 * --build-user) and the plan's own steps in the lab's Docker publish one digest, labels included.
 *
 * Needs what promise.cluster.ts needs (the lab's Docker daemon, started by the test; a Dagger engine, `engine.sh up`).
 */
import { describe, it } from "vitest";
import { threeExecutors } from "./three-executors.js";

describe("--build-user naming the builder's own user changes nothing", () => {
  it("the cluster with --build-user, the Dagger engine and the plan's own steps publish the same image", { timeout: 20 * 60_000 }, async () => {
    await threeExecutors("build-user", (lab) => ["--build-user", `${lab.cnb.uid}:${lab.cnb.gid}`]);
  });
});
