// Vite builds the app into dist/, which the C++ build embeds into the tyto binary (served at /ui/).
// `npx vite` serves it for development and sends API calls to a running tyto (TYTO_URL).
import { defineConfig } from 'vite';

const target = process.env.TYTO_URL ?? 'http://127.0.0.1:9800';

export default defineConfig({
  base: '/ui/',
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2020', chunkSizeWarningLimit: 400 },
  server: { proxy: { '/api': { target, changeOrigin: false } } },
});
