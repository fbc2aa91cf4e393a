#!/usr/bin/env node
// `npm start` will build and serve the register and the back office once the server exists.
// Until then it says so plainly instead of pretending to serve something.
console.error(
  [
    'Kassa: there is no server to start yet.',
    'What exists today is the domain core (packages/core) and its tests: run `npm test`.',
    'The server (http://localhost:8080 with a demo store) is the next piece being built; see README.md.',
  ].join('\n'),
);
process.exit(1);
