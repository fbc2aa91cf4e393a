// Known-good: pure code with an injected clock.
import { z } from 'zod';
import type { Clock } from './clock.js';

export const Schema = z.object({ at: z.number() });
export const stamp = (clock: Clock): number => clock.now();
