import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'bench',
    include: ['src/**/*.test.ts'],
    // The quick run starts three server processes (Kassa on SQLite and on PostgreSQL, PouchDB).
    testTimeout: 120_000,
  },
});
