// Known-bad: core imports nothing of ours.
import { something } from '@kassa/client';

export const x = something;
