// Known-good: the register engine may import core and use the platform.
import { money } from '@kassa/core';

export const price = money(100, 'EUR');
export const online = (): Promise<Response> => fetch('/api/v1/healthz');
