// The portal's languages: English and Japanese, with i18next. Each feature
// keeps its strings in its own namespace, one JSON catalogue per language
// (locales/<lang>/<namespace>.json), loaded with the bundle. The language is
// the one the user chose (remembered in localStorage), else the browser's.
import i18n from 'i18next';
import LanguageDetector from 'i18next-browser-languagedetector';
import { initReactI18next } from 'react-i18next';

export const LANGUAGES = [
  { code: 'en', label: 'English' },
  { code: 'ja', label: '日本語' },
] as const;
export type Language = (typeof LANGUAGES)[number]['code'];

type Catalogue = Record<string, unknown>;
const files = import.meta.glob<Catalogue>('./locales/*/*.json', { eager: true, import: 'default' });

/** The catalogues by language and namespace, from the files under locales/. */
export function catalogues(): Record<string, Record<string, Catalogue>> {
  const out: Record<string, Record<string, Catalogue>> = {};
  for (const [path, cat] of Object.entries(files)) {
    const m = /\.\/locales\/([^/]+)\/([^/]+)\.json$/.exec(path);
    if (!m) continue;
    (out[m[1]] ??= {})[m[2]] = cat;
  }
  return out;
}

// <html lang> follows the language (screen readers, fonts, hyphenation).
// Registered before init: with bundled resources, init detects the language
// (e.g. the browser's ja-JP) and announces it synchronously.
i18n.on('languageChanged', (lng) => {
  if (typeof document !== 'undefined') document.documentElement.lang = i18n.resolvedLanguage ?? lng;
});

void i18n
  .use(LanguageDetector)
  .use(initReactI18next)
  .init({
    resources: catalogues(),
    supportedLngs: LANGUAGES.map((l) => l.code),
    nonExplicitSupportedLngs: true,
    fallbackLng: 'en',
    defaultNS: 'common',
    interpolation: { escapeValue: false }, // React escapes
    // The cookie is the buyer pages' language switch (server/api/i18n.go): the customer portal follows it.
    detection: { order: ['localStorage', 'cookie', 'navigator'], lookupLocalStorage: 'marketgate.lang', lookupCookie: 'lang', caches: ['localStorage'] },
    returnNull: false,
  });


/** The current language, one of LANGUAGES. */
export function currentLanguage(): Language {
  return (i18n.resolvedLanguage ?? 'en').startsWith('ja') ? 'ja' : 'en';
}

/** Formats a date and time for the current language (the user's time zone). */
export function formatDateTime(s: string | null | undefined, opts: Intl.DateTimeFormatOptions = { dateStyle: 'medium', timeStyle: 'short' }): string {
  if (!s) return '—';
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) return s;
  return new Intl.DateTimeFormat(currentLanguage(), opts).format(d);
}

/** Formats a date (no time) for the current language. */
export function formatDay(s: string | null | undefined): string {
  return formatDateTime(s, { dateStyle: 'medium' });
}

/** Formats a number for the current language. */
export function formatNumber(n: number | null | undefined, opts?: Intl.NumberFormatOptions): string {
  if (n == null) return '—';
  return new Intl.NumberFormat(currentLanguage(), opts).format(n);
}

export default i18n;
