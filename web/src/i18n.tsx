// Message catalogues and the current language. Every string a person reads comes from a
// catalogue; a key missing from one language falls back to English.
import { createContext } from 'preact';
import { useContext, useEffect, useMemo, useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import en from './i18n/en.json';

export type MessageKey = keyof typeof en;
export type Language = 'en' | 'zh-CN';

export const languages: { code: Language; name: string }[] = [
  { code: 'en', name: 'English' },
  { code: 'zh-CN', name: '简体中文' },
];

// English is in the app; another language's catalogue is fetched when it is first used (the
// app's first download carries one language, not all of them).
const catalogues: Record<Language, Partial<Record<MessageKey, string>>> = { en, 'zh-CN': {} };
const loaders: Record<Language, (() => Promise<Partial<Record<MessageKey, string>>>) | null> = {
  en: null,
  'zh-CN': () => import('./i18n/zh-CN.json').then((m) => m.default),
};
const loaded = new Set<Language>(['en']);
export function loadCatalogue(language: Language): Promise<void> {
  const load = loaders[language];
  if (loaded.has(language) || !load) return Promise.resolve();
  return load().then((catalogue) => {
    catalogues[language] = catalogue;
    loaded.add(language);
  });
}
const storageKey = 'nightjar.language';

export function initialLanguage(): Language {
  const saved = localStorage.getItem(storageKey);
  if (saved === 'en' || saved === 'zh-CN') return saved;
  return navigator.language.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';
}

// A key in neither catalogue (an error code the server added later, say) comes back as
// the key itself, never as an exception: a page must not die over a missing string.
export function translate(
  language: Language,
  key: MessageKey,
  params: Record<string, string | number> = {},
): string {
  const template: string | undefined = catalogues[language][key] ?? en[key];
  if (template === undefined) return key;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole,
  );
}

type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;
// Dates and times in the person's language and time zone (the browser's), never en-US.
export type DateStyle = 'time' | 'date' | 'datetime' | 'weekday' | 'weekday_time';
type FormatDate = (when: Date | string | number, style?: DateStyle) => string;
interface I18n {
  language: Language;
  setLanguage: (language: Language) => void;
  t: Translate;
  formatDate: FormatDate;
}

const dateOptions: Record<DateStyle, Intl.DateTimeFormatOptions> = {
  time: { hour: '2-digit', minute: '2-digit' },
  date: { year: 'numeric', month: 'short', day: 'numeric' },
  datetime: { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' },
  weekday: { weekday: 'short', month: 'short', day: 'numeric' },
  weekday_time: { weekday: 'short', hour: '2-digit', minute: '2-digit' },
};

export function dateFormatter(language: Language): FormatDate {
  const cache = new Map<DateStyle, Intl.DateTimeFormat>();
  return (when, style = 'datetime') => {
    const date = when instanceof Date ? when : new Date(when);
    if (Number.isNaN(date.getTime())) return '';
    let f = cache.get(style);
    if (!f) {
      f = new Intl.DateTimeFormat(language, dateOptions[style]);
      cache.set(style, f);
    }
    return f.format(date);
  };
}

const I18nContext = createContext<I18n | null>(null);

export function I18nProvider({ children }: { children: ComponentChildren }) {
  const [language, setLanguageState] = useState<Language>(initialLanguage);
  // Shown in a language only once its catalogue is here (no flash of English first).
  const [shown, setShown] = useState<Language | null>(loaded.has(language) ? language : null);
  useEffect(() => {
    document.documentElement.lang = language;
    let current = true;
    void loadCatalogue(language)
      .catch(() => undefined) // offline and never fetched: English stands in
      .then(() => current && setShown(language));
    return () => {
      current = false;
    };
  }, [language]);
  const value = useMemo<I18n>(
    () => ({
      language,
      setLanguage: (next) => {
        localStorage.setItem(storageKey, next);
        setLanguageState(next);
      },
      t: (key, params) => translate(language, key, params),
      formatDate: dateFormatter(language),
    }),
    [language, shown],
  );
  if (shown === null) return null;
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const value = useContext(I18nContext);
  if (!value) throw new Error('useI18n outside I18nProvider');
  return value;
}

// The tab's title names the page (and the app).
export function useTitle(text: string): void {
  const { t } = useI18n();
  const app = t('app.name');
  useEffect(() => {
    document.title = text && text !== app ? `${text} · ${app}` : app;
  }, [text, app]);
}
