import { defineConfig } from "vitest/config";

/**
 * The e2e suite: real Docker, a real registry with auth, the real lifecycle and pack, all in the lab (test/lab/).
 * Run it with `npm run test:e2e` (as root): test/lab/run.sh builds what is missing (the first run builds the
 * lifecycle, pack and crane with Go: minutes), starts the lab, runs this config's vitest in the lab's network
 * namespace, and stops the lab at the end. test/e2e/global-setup.ts checks that and runs test/e2e/setup.sh (dockerd,
 * the builder pulled) first and test/e2e/teardown.sh last. One file at a time: they share one daemon and one registry.
 * PACKLINE_LAB_REUSE=1 uses a running lab (test/lab/lab.sh up) and leaves it up; PACKLINE_LAB_KEEP=1 leaves the
 * lab running after the run; PACKLINE_E2E_VERBOSE=1 echoes container output.
 */
export default defineConfig({
  test: {
    include: ["test/e2e/**/*.test.ts"],
    globalSetup: ["test/e2e/global-setup.ts"],
    pool: "forks",
    fileParallelism: false,
    maxWorkers: 1,
    testTimeout: 10 * 60_000,
    hookTimeout: 10 * 60_000,
    teardownTimeout: 2 * 60_000,
    retry: 0,
  },
});
