/**
 * The back-office API (issue 6, docs/adr/0016-backoffice-api.md): catalog, stores, stock, and the
 * review of alerts, conflicts and quarantined ops. One plugin, so `app.ts` registers it once.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { alertRoutes } from './alert-routes.js';
import { categoryRoutes } from './category-routes.js';
import { conflictRoutes } from './conflict-routes.js';
import { productRoutes } from './product-routes.js';
import { quarantineRoutes } from './quarantine-routes.js';
import { stockRoutes } from './stock-routes.js';
import type { BackofficeRouteOptions } from './route-options.js';
import { storeRoutes } from './store-routes.js';
import { taxRateRoutes } from './tax-rate-routes.js';
import { variantRoutes } from './variant-routes.js';

export type { BackofficeRouteOptions } from './route-options.js';

/**
 * Registers every back-office route.
 *
 * @example
 * ```ts
 * await app.register(backofficeRoutes, { storage, clock, changeFeed });
 * ```
 */
export const backofficeRoutes: FastifyPluginAsyncZod<BackofficeRouteOptions> = async (app, options) => {
  await app.register(productRoutes, options);
  await app.register(variantRoutes, options);
  await app.register(categoryRoutes, options);
  await app.register(taxRateRoutes, options);
  await app.register(storeRoutes, options);
  await app.register(alertRoutes, options);
  await app.register(conflictRoutes, options);
  await app.register(quarantineRoutes, options);
  await app.register(stockRoutes, options);
};
