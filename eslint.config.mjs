// ESLint for the program, its tools and tests, the policy pack and the consumer example.
// typescript-eslint's recommended rules, a few type-aware ones where they catch what the compiler
// cannot (promises left floating in an async Pulumi program), and @pulumi/eslint-plugin's two
// rules: a pulumi.Output inside a plain template literal renders as a warning text, not its value.
// Formatting is prettier's business (.prettierrc), so no stylistic rules here.
import pulumi from "@pulumi/eslint-plugin";
import { defineConfig, globalIgnores } from "eslint/config";
import tseslint from "typescript-eslint";

export default defineConfig([
  globalIgnores(["**/node_modules/", "**/bin/", "plan-output/", ".pulumi-state/", "coverage/"]),
  {
    files: ["**/*.ts"],
    extends: [tseslint.configs.recommended],
    languageOptions: {
      parserOptions: {
        // Each file is checked with the tsconfig.json nearest to it (root, policy/, examples/consumer/).
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { "@pulumi": pulumi },
    rules: {
      "@pulumi/no-output-in-template-literal": "error",
      "@pulumi/no-output-instance-in-template-literal": "error",
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/await-thenable": "error",
      // `_name` marks a parameter an interface requires but this implementation does not read.
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      eqeqeq: ["error", "smart"],
      "no-var": "error",
      "prefer-const": "error",
    },
  },
  {
    // Tests build mock inputs and policy arguments, which are untyped by nature (the engine's wire
    // format), and load modules at run time on purpose: inside jest's isolated registries, and the
    // policy pack's own copy of @pulumi/pulumi.
    files: ["tests/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off", "@typescript-eslint/no-require-imports": "off" },
  },
  {
    // The mock runner requires @pulumi/pulumi at run time so that it shares one runtime with the
    // program it runs, and patches the untyped internals of Pulumi's mock monitor.
    files: ["tools/plan/mockRuntime.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off", "@typescript-eslint/no-require-imports": "off" },
  },
  {
    files: ["**/*.js"],
    languageOptions: { sourceType: "commonjs", globals: { module: "writable", require: "readonly" } },
  },
]);
