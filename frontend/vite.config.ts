import { defineConfig } from 'vitest/config';
import type { Plugin } from 'vite';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

// precompress writes name.br and name.gz beside every built file worth
// compressing (issue 18): the server sends them by Accept-Encoding
// (server/api/compress.go), so nothing is compressed per request. Node's
// own zlib does both, at their best levels; a file under 1 KB, or one that
// would not shrink, is left as it is.
// blueprintIcons emits every Blueprint icon's SVG paths as a JSON file of
// its own, assets/icons-<version>/<16|20>/<name>.json (the version in the
// name: assets are cached for a year), for the custom icon loader in
// src/shared/icons.ts: a page fetches only the icons it draws, and no
// JavaScript lists them all.
const ICONS_DIR = resolve(__dirname, 'node_modules/@blueprintjs/icons');
const ICONS_VERSION: string = JSON.parse(readFileSync(join(ICONS_DIR, 'package.json'), 'utf8')).version;

function blueprintIcons(): Plugin {
  return {
    name: 'marketgate-blueprint-icons',
    apply: 'build',
    async generateBundle() {
      for (const px of [16, 20]) {
        const dir = join(ICONS_DIR, `lib/esm/generated/${px}px/paths`);
        for (const f of readdirSync(dir)) {
          if (!f.endsWith('.js') || f === 'index.js') continue;
          const paths: unknown = (await import(pathToFileURL(join(dir, f)).href)).default;
          if (!Array.isArray(paths)) throw new Error(`icon paths not understood: ${f}`);
          this.emitFile({ type: 'asset', fileName: `assets/icons-${ICONS_VERSION}/${px}/${f.slice(0, -3)}.json`, source: JSON.stringify(paths) });
        }
      }
    },
  };
}

const COMPRESSIBLE = new Set(['.js', '.css', '.html', '.svg', '.json', '.txt', '.webmanifest']);

function precompress(): Plugin {
  let outDir = '';
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((n) => {
      const p = join(dir, n);
      return statSync(p).isDirectory() ? walk(p) : [p];
    });
  return {
    name: 'marketgate-precompress',
    apply: 'build',
    configResolved(c) {
      outDir = resolve(c.root, c.build.outDir);
    },
    closeBundle() {
      for (const file of walk(outDir)) {
        if (!COMPRESSIBLE.has(extname(file))) continue;
        const data = readFileSync(file);
        if (data.length < 1024) continue;
        const br = brotliCompressSync(data, {
          params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY, [constants.BROTLI_PARAM_SIZE_HINT]: data.length },
        });
        const gz = gzipSync(data, { level: constants.Z_BEST_COMPRESSION });
        if (br.length < data.length) writeFileSync(file + '.br', br);
        if (gz.length < data.length) writeFileSync(file + '.gz', gz);
      }
    },
  };
}

export default defineConfig({
  base: '/',
  plugins: [blueprintIcons(), precompress()],
  define: { __BLUEPRINT_ICONS__: JSON.stringify(`/assets/icons-${ICONS_VERSION}`) },
  build: {
    outDir: 'build/portal',
    emptyOutDir: true,
    chunkSizeWarningLimit: 2000,
    rollupOptions: {
      // React Server Components' "use client" marks in react-router and
      // TanStack Query mean nothing in a client-only bundle: drop that one
      // warning (a wall of them per build) and keep every other.
      onwarn(warning, warn) {
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE' && warning.message.includes('"use client"')) return;
        warn(warning);
      },
    },
  },
  server: {
    proxy: {
      '/api': 'http://127.0.0.1:8080',
      '/healthz': 'http://127.0.0.1:8080',
    },
  },
  // The component tests share one jsdom and one module graph per worker
  // (isolate: false): importing Blueprint and React into a fresh context
  // for each of the 38 files was three quarters of the run (190 s on two
  // cores, 28 s shared). Every file starts clean all the same: the setup
  // file sets English again, each file's afterEach unmounts and restores
  // its mocks, and each test renders its own router and query client.
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['src/shared/test/setup.ts'],
    isolate: false,
    maxWorkers: availableParallelism(),
  },
});
