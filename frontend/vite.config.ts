import { defineConfig } from 'vitest/config';

export default defineConfig({
  base: '/',
  build: { outDir: 'build/portal', emptyOutDir: true, chunkSizeWarningLimit: 2000 },
  server: {
    proxy: {
      '/api': 'http://127.0.0.1:8080',
      '/healthz': 'http://127.0.0.1:8080',
    },
  },
  test: { environment: 'jsdom', include: ['src/**/*.test.{ts,tsx}'], setupFiles: ['src/shared/test/setup.ts'] },
});
