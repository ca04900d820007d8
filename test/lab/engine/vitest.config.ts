import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const here = dirname(fileURLToPath(import.meta.url));

/**
 * The real-engine suite (`npm run test:engine`): a real Dagger engine in the lab (test/lab/engine/engine.sh), driven
 * through the SDK's connection(), `packline build` as a process and the `dagger` CLI. global-setup.ts brings the
 * engine up (and the lab, if no lab runs) and down again. One file at a time: they share one engine.
 * PACKLINE_ENGINE_REUSE=1 uses an engine already up (no setup, no teardown); PACKLINE_ENGINE_KEEP=1 leaves it up.
 */
export default defineConfig({
  root: resolve(here, "../../.."),
  test: {
    include: ["test/lab/engine/**/*.test.ts"],
    globalSetup: [resolve(here, "global-setup.ts")],
    pool: "forks",
    fileParallelism: false,
    maxWorkers: 1,
    testTimeout: 10 * 60_000,
    hookTimeout: 10 * 60_000,
    teardownTimeout: 3 * 60_000,
    retry: 0,
  },
});
