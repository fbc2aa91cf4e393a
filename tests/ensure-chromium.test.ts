/**
 * `scripts/ensure-chromium` is what browser tests call to find their browser. These tests pin its
 * contract through CHROMIUM_PATH, so they never install anything themselves.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('../scripts/ensure-chromium', import.meta.url));

function run(env: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('bash', [script], { env: { ...process.env, ...env }, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('scripts/ensure-chromium', () => {
  it('uses CHROMIUM_PATH when it is executable, printing only the path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kassa-chromium-'));
    const fake = join(dir, 'chrome');
    writeFileSync(fake, '#!/bin/sh\nexit 0\n');
    chmodSync(fake, 0o755);
    const r = run({ CHROMIUM_PATH: fake });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${fake}\n`);
    expect(r.stderr).toBe('');
  });

  it('fails with a clear message when CHROMIUM_PATH is not executable', () => {
    const r = run({ CHROMIUM_PATH: '/nonexistent/chromium' });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('CHROMIUM_PATH=/nonexistent/chromium is not an executable file');
  });
});
