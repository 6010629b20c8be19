import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // each test file removes the temporary directories it made (test/helpers/tmp.ts) when it ends
    setupFiles: ["test/helpers/tmp-setup.ts"],
    // forks, not threads: the native addon owns an OpenMP pool per process
    pool: "forks",
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    // every uninitialised allocation starts as NaN in tests, so a kernel that does not overwrite its output fails
    // and buffers going back to the pool are detached (strict mode), so code that keeps a raw array past its tidy
    // scope reads an empty array instead of a later step's values
    env: { SPIKECUT_POISON_UNINIT: "1", SPIKECUT_POOL_DETACH: "1" },
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
