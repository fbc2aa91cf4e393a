/**
 * Ops: every change a register makes, as it travels to the server (DESIGN.md §3). The schemas in
 * `ops/` are the single source of the wire types for the register, the server and the OpenAPI
 * document; `op-version.ts` parses ops of the current and the previous schema version.
 */
export * from './ops/op-envelope.js';
export * from './ops/sale-ops.js';
export * from './ops/cash-ops.js';
export * from './ops/stock-ops.js';
export * from './ops/reference-ops.js';
export * from './ops/balance-ops.js';
export * from './ops/op-schema.js';
export * from './ops/op-kinds.js';
export * from './ops/op-hash.js';
