// Vite builds the app into dist/, which the C++ build embeds into the tyto binary (served at /ui/).
// `npx vite` serves it for development and sends API calls to a running tyto (TYTO_URL); for
// work on the built files without recompiling, point tyto's `ui.assets_dir` at web/dist instead.
import { defineConfig } from 'vite';

const target = process.env.TYTO_URL ?? 'http://127.0.0.1:9800';

export default defineConfig({
  base: '/ui/',
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2020', chunkSizeWarningLimit: 400 },
  server: { proxy: { '/api': { target }, '/metrics': { target } } },
});
