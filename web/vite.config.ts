import { defineConfig } from 'vite';

// Preact's automatic JSX runtime, no framework plugin needed. Everything is bundled into
// hashed files under /assets/, so the server can cache them forever and the page loads
// nothing from any other origin (the CSP is default-src 'self').
export default defineConfig({
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
  server: {
    proxy: { '/api': { target: 'http://127.0.0.1:8080', ws: true }, '/healthz': 'http://127.0.0.1:8080' },
  },
});
