import { describe, expect, it } from 'vitest';
import { ByNameBudget } from './by-name-budget.ts';

describe('ByNameBudget', () => {
  it('counts a service once however many streams hold it, and refuses a new one at the bound', () => {
    const b = new ByNameBudget({ perStream: 10, perGateway: 2 });
    expect(b.acquire('default', 'a')).toBe(true);
    expect(b.acquire('default', 'a')).toBe(true);
    expect(b.acquire('default', 'b')).toBe(true);
    expect(b.size).toBe(2);
    // A third distinct service is refused; the same name in another mesh is another service.
    expect(b.acquire('default', 'c')).toBe(false);
    expect(b.acquire('other', 'a')).toBe(false);
    // Ones already followed can still be held by more streams.
    expect(b.acquire('default', 'b')).toBe(true);
    expect(b.size).toBe(2);
  });

  it('frees a place only when the last hold on a service goes', () => {
    const b = new ByNameBudget({ perStream: 10, perGateway: 1 });
    b.acquire('default', 'a');
    b.acquire('default', 'a');
    b.release('default', 'a');
    expect(b.acquire('default', 'b')).toBe(false);
    b.release('default', 'a');
    expect(b.size).toBe(0);
    expect(b.acquire('default', 'b')).toBe(true);
    // Releasing what is not held changes nothing.
    b.release('default', 'zzz');
    expect(b.size).toBe(1);
  });
});
