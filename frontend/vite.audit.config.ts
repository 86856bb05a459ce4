import { svelte } from '@sveltejs/vite-plugin-svelte'
import { defineConfig } from 'vite'

// The UI with a stand-in for the Go side, for the accessibility audit
// (frontend/audit, make audit-ui). Never shipped: it builds into build/audit.
export default defineConfig({
  plugins: [svelte()],
  root: 'audit',
  base: './',
  build: { outDir: '../../build/audit', emptyOutDir: true },
})
