/**
 * The register's local commands. Each runs in ONE SQLite transaction that changes local state,
 * appends its op to the outbox under the next gapless seq and (for receipts) takes the next
 * receipt number and chain link; see `context.ts` for the steps.
 */
export * from './context.js';
export * from './complete-sale.js';
export * from './refund.js';
export * from './void-sale.js';
export * from './move-cash.js';
export * from './open-shift.js';
export * from './close-shift.js';
export * from './adjust-stock.js';
export * from './reference-edit.js';
export { loadRegister, chainHead, nextReceipt } from './op-writer.js';
