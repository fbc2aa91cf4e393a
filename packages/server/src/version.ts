import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** The server's version, from its package.json, reported by `/healthz` and the OpenAPI document. */
export const SERVER_VERSION: string = z
  .object({ version: z.string() })
  .parse(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))).version;
