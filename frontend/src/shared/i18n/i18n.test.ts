import { describe, expect, it } from 'vitest';
import { catalogues } from '.';

// Every key in one language's catalogue exists in the other: no page shows
// a key name or falls back to English in Japanese.
function keys(o: unknown, prefix = ''): string[] {
  if (o === null || typeof o !== 'object') return [prefix];
  return Object.entries(o as Record<string, unknown>).flatMap(([k, v]) => keys(v, prefix ? `${prefix}.${k}` : k));
}

describe('message catalogues', () => {
  const all = catalogues();
  it('has English and Japanese', () => {
    expect(Object.keys(all).sort()).toEqual(['en', 'ja']);
  });
  for (const ns of Object.keys(all.en)) {
    it(`${ns}: the same keys in both languages, none empty`, () => {
      expect(keys(all.ja[ns]).sort()).toEqual(keys(all.en[ns]).sort());
      for (const lang of ['en', 'ja']) {
        for (const k of keys(all[lang][ns])) {
          const v = k.split('.').reduce<unknown>((o, p) => (o as Record<string, unknown>)[p], all[lang][ns]);
          expect(typeof v === 'string' && v.trim() !== '', `${lang}/${ns}:${k}`).toBe(true);
        }
      }
    });
  }
});
