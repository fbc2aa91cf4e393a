import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'server',
    include: ['src/**/*.test.ts'],
    // Storage suites create real databases and hash PINs with 600,000 PBKDF2 rounds; the start-up
    // test spawns the real server. Generous limits, no fixed sleeps anywhere.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
