import path from "node:path";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: {
    alias: {
      "@": path.resolve(import.meta.dirname),
      "server-only": path.resolve(import.meta.dirname, "tests/support/empty.ts"),
    },
  },
  test: {
    include: [
      "lib/**/*.test.ts",
      "tests/integration/**/*.test.ts",
      "tests/fake-portal/**/*.test.ts",
      "scripts/**/*.test.ts",
    ],
    setupFiles: ["tests/support/setup.ts"],
    globalSetup: ["tests/support/drop-test-databases.ts"],
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 120_000,
    maxWorkers: 2,
  },
});
