// Vite builds the app into dist/, which the C++ build embeds into the tyto binary (served at /ui/).
// `npx vite` serves it for development and sends API calls to a running tyto (TYTO_URL).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig, type Plugin } from 'vite';

const target = process.env.TYTO_URL ?? 'http://127.0.0.1:9800';

// DEVELOPMENT ONLY, and only when TYTO_DEV_DASHBOARDS=1 is set: answers GET /api/v1/dashboards and
// GET /api/v1/dashboards/<uid> from ../dashboards/*.json, so the dashboard pages can be worked on
// against a tyto built before the dashboards API existed. `configureServer` runs only in
// `vite` (the dev server), never in `vite build`: none of this is part of the built app.
function devDashboards(): Plugin {
  const dir = join(__dirname, '..', 'dashboards');
  const load = () => readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')));
  return {
    name: 'tyto-dev-dashboards',
    apply: 'serve',
    configureServer(server) {
      if (process.env.TYTO_DEV_DASHBOARDS !== '1') return;
      server.middlewares.use((req, res, next) => {
        const m = /^\/api\/v1\/dashboards(?:\/([A-Za-z0-9_-]+))?\/?(?:\?.*)?$/.exec(req.url ?? '');
        if (!m || req.method !== 'GET') return next();
        const all = load();
        const body = m[1]
          ? all.find((d) => d.uid === m[1])
          : all.map((d) => ({ uid: d.uid, title: d.title, tags: d.tags ?? [], source: 'builtin' }));
        res.setHeader('Content-Type', 'application/json');
        if (!body) {
          res.statusCode = 404;
          res.end(JSON.stringify({ status: 'error', errorType: 'not_found', error: `dashboard ${m[1]} not found` }));
          return;
        }
        res.end(JSON.stringify({ status: 'success', data: body }));
      });
    },
  };
}

export default defineConfig({
  base: '/ui/',
  plugins: [devDashboards()],
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2020', chunkSizeWarningLimit: 400 },
  server: { proxy: { '/api': { target, changeOrigin: false } } },
});
