import { pino } from 'pino';
import type { Logger, LoggerOptions } from 'pino';

/**
 * Paths pino replaces with `[redacted]` wherever they appear in a log line: credentials in
 * headers, and secrets in any logged object up to three levels deep. Request bodies are never
 * logged at all; this is the second line of defence.
 */
export const REDACT_PATHS: readonly string[] = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  ...['password', 'pin', 'token', 'deviceToken', 'pairingCode', 'csrfToken', 'passwordHash'].flatMap((key) => [key, `*.${key}`, `*.*.${key}`]),
];

/** Options for the server's pino logger: JSON lines, secrets redacted. */
export function loggerOptions(level: LoggerOptions['level'] = 'info'): LoggerOptions {
  return { level, redact: { paths: [...REDACT_PATHS], censor: '[redacted]' } };
}

/** The server's logger (JSON lines on stdout). */
export function createLogger(level: LoggerOptions['level'] = 'info', destination?: pino.DestinationStream): Logger {
  return destination === undefined ? pino(loggerOptions(level)) : pino(loggerOptions(level), destination);
}
