import { defineConfig } from 'vite';

// Relative base: the tests serve the build under a sub-path.
export default defineConfig({
  base: './',
  logLevel: 'warn',
  build: { outDir: process.env.VITE_OUT_DIR || 'dist', emptyOutDir: true },
});
