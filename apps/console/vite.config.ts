import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The console's web app: built into dist/apps/console/web, which the console server serves. `vite` alone (dev)
// proxies /api to a console server on CONSOLE_PORT.
const here = fileURLToPath(new URL('.', import.meta.url));
export default defineConfig({
  root: `${here}web`,
  plugins: [react()],
  build: { outDir: `${here}../../dist/apps/console/web`, emptyOutDir: true, sourcemap: true },
  server: { proxy: { '/api': `http://127.0.0.1:${process.env.CONSOLE_PORT ?? 8080}` } },
});
