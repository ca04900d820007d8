import { defineConfig } from "vitest/config";

// The default suite (`npm test`): everything but the real-component suites of the lab (test/e2e, test/lab: `npm run
// test:e2e`, `test:engine`, `test:cluster`), which need root, namespaces and built components.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/e2e/**", "test/lab/**", "**/node_modules/**"],
    testTimeout: 30_000,
  },
});
