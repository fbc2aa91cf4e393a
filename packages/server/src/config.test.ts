import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_ADMIN_EMAIL, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('defaults to port 8080 on every interface with SQLite in ./data', () => {
    const config = loadConfig({}, '/srv/kassa');
    expect(config).toEqual({
      port: 8080,
      host: '0.0.0.0',
      storage: { kind: 'sqlite', dataDir: '/srv/kassa/data', file: path.join('/srv/kassa/data', 'kassa.sqlite') },
      adminEmail: DEFAULT_ADMIN_EMAIL,
      adminPassword: undefined,
      logLevel: 'info',
      changeLogRetentionDays: 90,
    });
  });

  it('switches to PostgreSQL when DATABASE_URL is set', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/kassa', PORT: '9000' });
    expect(config.storage).toEqual({ kind: 'postgres', url: 'postgres://postgres@127.0.0.1:5432/kassa' });
    expect(config.port).toBe(9000);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '', KASSA_ADMIN_PASSWORD: '' }, '/x')).toMatchObject({
      port: 8080,
      storage: { kind: 'sqlite' },
      adminPassword: undefined,
    });
  });

  it.each([
    [{ PORT: 'eighty' }, /PORT: must be a whole number \(got "eighty"\)/],
    [{ PORT: '0' }, /PORT: must be between 1 and 65535/],
    [{ PORT: '70000' }, /PORT: must be between 1 and 65535/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL: must be a postgres:\/\//],
    [{ KASSA_ADMIN_EMAIL: 'not-an-email' }, /KASSA_ADMIN_EMAIL: must be an email address/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
    [{ KASSA_CHANGE_LOG_RETENTION_DAYS: 'a year' }, /KASSA_CHANGE_LOG_RETENTION_DAYS: must be a whole number of days \(got "a year"\)/],
    [{ KASSA_CHANGE_LOG_RETENTION_DAYS: '0' }, /KASSA_CHANGE_LOG_RETENTION_DAYS: must be between 1 and 3650 days/],
    [{ KASSA_CHANGE_LOG_RETENTION_DAYS: '36500' }, /KASSA_CHANGE_LOG_RETENTION_DAYS: must be between 1 and 3650 days/],
  ])('rejects %j with a clear message', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('never echoes a password back, even a bad one', () => {
    try {
      loadConfig({ KASSA_ADMIN_PASSWORD: 'short' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toContain('KASSA_ADMIN_PASSWORD: must be at least 8 characters');
      expect((err as ConfigError).message).not.toContain('short');
    }
  });

  it('lists every problem at once', () => {
    expect(() => loadConfig({ PORT: 'x', KASSA_ADMIN_EMAIL: 'y' })).toThrow(/PORT[\s\S]*KASSA_ADMIN_EMAIL/);
  });
});
