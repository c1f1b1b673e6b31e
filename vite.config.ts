import { defineConfig } from "vite";

/**
 * For `npx vite-node scripts/...`: Node 20 needs `using` lowered (src/linux uses it).
 * Vitest reads vitest.config.ts instead.
 */
export default defineConfig({
  esbuild: { target: "node20" },
});
