import { writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { svelte } from '@sveltejs/vite-plugin-svelte'
import { svelteTesting } from '@testing-library/svelte/vite'
import type { Plugin } from 'vite'
import { defineConfig } from 'vitest/config'

const outDir = 'dist'

// The Go side embeds frontend/dist with `//go:embed all:frontend/dist`, which
// needs the directory to exist before the first build. A committed
// dist/.gitkeep keeps it; the build empties dist, so put the file back.
function keepDistPlaceholder(): Plugin {
  return {
    name: 'switchboard-keep-dist-placeholder',
    apply: 'build',
    closeBundle() {
      writeFileSync(resolve(import.meta.dirname, outDir, '.gitkeep'), '')
    },
  }
}

export default defineConfig({
  plugins: [svelte(), svelteTesting(), keepDistPlaceholder()],
  // Relative asset URLs: Wails serves the embedded files from its own origin.
  base: './',
  build: {
    outDir,
    emptyOutDir: true,
  },
  server: {
    // `wails dev` proxies to this port.
    port: 5173,
    strictPort: true,
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts'],
  },
})
