// The few parts of PouchDB and express-pouchdb the bench uses; neither ships its own types.

declare module 'pouchdb-node' {
  interface ReplicationResult {
    readonly ok: boolean;
    readonly docs_written: number;
    readonly doc_write_failures: number;
    readonly errors: readonly unknown[];
  }
  interface PouchDatabase {
    bulkDocs(docs: readonly object[]): Promise<readonly { ok?: boolean; error?: string }[]>;
    info(): Promise<{ doc_count: number; update_seq: number | string }>;
    close(): Promise<void>;
  }
  interface PouchDBStatic {
    new (name: string, options?: Record<string, unknown>): PouchDatabase;
    defaults(options: Record<string, unknown>): PouchDBStatic;
    replicate(source: PouchDatabase, target: PouchDatabase, options?: Record<string, unknown>): Promise<ReplicationResult>;
  }
  const PouchDB: PouchDBStatic;
  export default PouchDB;
  export type { PouchDatabase, PouchDBStatic, ReplicationResult };
}

declare module 'express-pouchdb' {
  import type { RequestHandler } from 'express';
  import type { PouchDBStatic } from 'pouchdb-node';
  export default function expressPouchDB(pouch: PouchDBStatic, options?: Record<string, unknown>): RequestHandler;
}
