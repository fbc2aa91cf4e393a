// Known-bad: the register engine never imports the server.
import { buildServer } from '@kassa/server';
import { migrate } from '../../server/src/migrate.js';

export const both = [buildServer, migrate];
