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
    env: { SPIKECUT_POISON_UNINIT: "1" },
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
