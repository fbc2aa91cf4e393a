/**
 * Proves the lint rules that keep the package dependency direction (README, "Who imports whom")
 * really fail on violations: each known-bad fixture is linted as if it lived in the package it
 * would break, through the project's own eslint.config.js.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const eslint = new ESLint({ cwd: root });

async function lintAs(fixture: string, pretendPath: string): Promise<{ ruleId: string | null; message: string }[]> {
  const code = readFileSync(new URL(`./lint-fixtures/${fixture}`, import.meta.url), 'utf8');
  const [result] = await eslint.lintText(code, { filePath: `${root}${pretendPath}` });
  if (!result) throw new Error('eslint returned no result');
  return result.messages.map((m) => ({ ruleId: m.ruleId, message: m.message }));
}

describe('dependency direction lint rules', () => {
  it('rejects node built-ins in core', async () => {
    const messages = await lintAs('core-imports-node.ts', 'packages/core/src/bad.ts');
    expect(messages).toContainEqual(expect.objectContaining({ ruleId: 'no-restricted-imports' }));
  });

  it('rejects clock, randomness, network and storage globals in core', async () => {
    const messages = await lintAs('core-uses-globals.ts', 'packages/core/src/bad.ts');
    const rules = messages.map((m) => m.ruleId);
    // Date.now, Math.random, new Date(), fetch, localStorage: five separate violations.
    expect(rules.filter((r) => r === 'no-restricted-properties')).toHaveLength(2);
    expect(rules.filter((r) => r === 'no-restricted-syntax')).toHaveLength(1);
    expect(rules.filter((r) => r === 'no-restricted-globals')).toHaveLength(2);
  });

  it('rejects core importing another Kassa package', async () => {
    const messages = await lintAs('core-imports-ours.ts', 'packages/core/src/bad.ts');
    expect(messages).toContainEqual(expect.objectContaining({ ruleId: 'no-restricted-imports' }));
  });

  it('rejects the client importing the server, by package name or by path', async () => {
    const messages = await lintAs('client-imports-server.ts', 'packages/client/src/bad.ts');
    expect(messages.filter((m) => m.ruleId === 'no-restricted-imports')).toHaveLength(2);
  });

  it('rejects the server importing the client', async () => {
    const messages = await lintAs('server-imports-client.ts', 'packages/server/src/bad.ts');
    expect(messages).toContainEqual(expect.objectContaining({ ruleId: 'no-restricted-imports' }));
  });

  it('accepts pure core code and a client that imports core', async () => {
    expect(await lintAs('core-good.ts', 'packages/core/src/good.ts')).toEqual([]);
    expect(await lintAs('client-good.ts', 'packages/client/src/good.ts')).toEqual([]);
  });

  it('fails the lint command itself on a violation', async () => {
    // The same engine `npm run lint` uses reports an error count, which makes the command exit 1.
    const code = readFileSync(new URL('./lint-fixtures/core-imports-node.ts', import.meta.url), 'utf8');
    const [result] = await eslint.lintText(code, { filePath: `${root}packages/core/src/bad.ts` });
    expect(result?.errorCount).toBeGreaterThan(0);
  });
});
