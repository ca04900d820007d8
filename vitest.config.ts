import { defineConfig } from "vitest/config";

// The default suite: everything but the real-components e2e suite (vitest.e2e.config.ts, `npm run test:e2e`).
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/e2e/**", "**/node_modules/**"],
    testTimeout: 30_000,
  },
});
