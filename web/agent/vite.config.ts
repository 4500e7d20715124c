import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The agent app: index.html and hashed assets in agent/dist. Asset URLs
// are relative, so the same build works wherever it is served (/agent/
// locally, any path of a bucket or CDN in AWS); its settings are read at
// run time from config.json beside it.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2020',
    sourcemap: false,
  },
});
