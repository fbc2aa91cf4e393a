// Known-bad: core must not do I/O.
import { readFileSync } from 'node:fs';

export const config = readFileSync('/etc/hostname', 'utf8');
