import { defineConfig } from "vitest/config";

/**
 * The e2e suite (`npm run test:e2e`): real Docker, a real registry with auth, the real lifecycle and pack.
 * test/e2e/global-setup.ts runs test/e2e/setup.sh first (as root; the first run builds the lifecycle and pack with Go,
 * minutes) and test/e2e/teardown.sh at the end. One file at a time: they share one daemon and one registry.
 * PACKLINE_E2E_REUSE=1 uses an environment setup.sh already started (no setup, no teardown);
 * PACKLINE_E2E_KEEP=1 leaves it running after the run; PACKLINE_E2E_VERBOSE=1 echoes container output.
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
