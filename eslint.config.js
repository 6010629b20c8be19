// Lint: typescript-eslint's recommended rules over the sources, tests and benchmarks.
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "build/**", "build-fallback/**", "node_modules/**", "docs/**"] },
  ...tseslint.configs.recommended,
  {
    rules: {
      // the hot loops index typed arrays with `!` after bounds are established by the loop
      "@typescript-eslint/no-non-null-assertion": "off",
      "@typescript-eslint/no-explicit-any": "warn",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
);
