// Known-bad: the server never imports the register engine.
import { openStore } from '@kassa/client';

export const store = openStore;
