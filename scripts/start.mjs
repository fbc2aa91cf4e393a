#!/usr/bin/env node
// `npm start`: runs the server from its TypeScript sources. Node 20 cannot strip types, so tsx's
// loader is registered first (docs/adr/0010-server-runtime.md); nothing is built ahead of time.
// One process: signals reach the server directly, and it exits 0 after a graceful shutdown.
import { register } from 'tsx/esm/api';

register();
await import('../packages/server/src/main.ts');
