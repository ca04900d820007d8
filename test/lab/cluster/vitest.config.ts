import { defineConfig } from "vitest/config";

/**
 * The cluster suite (`npm run test:cluster`, through test/lab/cluster/test.sh): tests against the lab's real
 * Kubernetes and Argo Workflows controller. Its files end in `.cluster.ts`, so the default suite (test/**\/*.test.ts)
 * never picks them up. global-setup.ts only checks that the cluster runs: test.sh starts it from the host side (it
 * makes namespaces and may build binaries) and stops it at the end. One file at a time: the files share one node.
 */
export default defineConfig({
  test: {
    include: ["test/lab/cluster/**/*.cluster.ts"],
    globalSetup: ["test/lab/cluster/global-setup.ts"],
    pool: "forks",
    fileParallelism: false,
    maxWorkers: 1,
    testTimeout: 10 * 60_000,
    hookTimeout: 5 * 60_000,
    retry: 0,
  },
});
