import { defineConfig } from "vite";

/** vite-node runs the examples straight from TypeScript; Node 20 needs `using` lowered. */
export default defineConfig({
  esbuild: { target: "node20" },
});
