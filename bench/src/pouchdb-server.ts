/**
 * The PouchDB side of the comparison, run as its own process like the Kassa server: express-pouchdb
 * (the CouchDB HTTP API of pouchdb-server) over PouchDB's leveldb adapter, on disk in `argv[2]`,
 * on port `argv[3]`. Prints `ready` when listening; exits on SIGTERM.
 */
import path from 'node:path';
import express from 'express';
import expressPouchDB from 'express-pouchdb';
import PouchDB from 'pouchdb-node';

const [dir, portText] = process.argv.slice(2);
if (dir === undefined || portText === undefined) throw new Error('usage: pouchdb-server.ts <dir> <port>');

const OnDisk = PouchDB.defaults({ prefix: `${dir}${path.sep}` });
const app = express();
app.use(
  '/',
  expressPouchDB(OnDisk, {
    mode: 'minimumForPouchDB',
    configPath: path.join(dir, 'config.json'),
    logPath: path.join(dir, 'log.txt'),
    inMemoryConfig: true,
  }),
);
const server = app.listen(Number(portText), '127.0.0.1', () => process.stdout.write('ready\n'));
process.once('SIGTERM', () => server.close(() => process.exit(0)));
