import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Two cores on CI: forks keep native addons (sharp, onnxruntime) isolated per file.
    pool: 'forks',
    maxWorkers: 2,
  },
});
