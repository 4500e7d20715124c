import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// One self-contained script, widget/dist/widget.js: no framework, no
// runtime dependency, nothing else to load.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  publicDir: false,
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2020',
    sourcemap: false,
    lib: {
      entry: fileURLToPath(new URL('./src/widget.ts', import.meta.url)),
      name: 'ParleyChat',
      formats: ['iife'],
      fileName: () => 'widget.js',
    },
  },
});
