import { describe, expect, it } from 'vitest';
import { money } from './money.js';
import { NonIntegerError } from './errors.js';

describe('money', () => {
  it('refuses a non-integer amount', () => {
    expect(() => money(1.5, 'EUR')).toThrow(NonIntegerError);
  });
});
