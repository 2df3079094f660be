// The shell: header with the language switch, navigation (a drawer on phones, a sidebar on
// desktops), and the page for the current path.
import { useState } from 'preact/hooks';
import { I18nProvider, languages, useI18n, type Language } from './i18n';
import { Link, usePath } from './router';
import { HomePage } from './pages/home';
import { NotFoundPage } from './pages/not-found';

function Page({ path }: { path: string }) {
  switch (path) {
    case '/':
      return <HomePage />;
    default:
      return <NotFoundPage path={path} />;
  }
}

function LanguageSwitch() {
  const { language, setLanguage, t } = useI18n();
  return (
    <label class="language">
      <span class="visually-hidden">{t('lang.label')}</span>
      <select
        aria-label={t('lang.label')}
        data-testid="language"
        value={language}
        onChange={(e) => setLanguage((e.target as HTMLSelectElement).value as Language)}
      >
        {languages.map((l) => (
          <option value={l.code} lang={l.code}>
            {l.name}
          </option>
        ))}
      </select>
    </label>
  );
}

function Shell() {
  const { t } = useI18n();
  const path = usePath();
  const [menuOpen, setMenuOpen] = useState(false);
  return (
    <div class={`shell${menuOpen ? ' menu-open' : ''}`}>
      <header class="topbar">
        <button
          class="menu-button"
          aria-label={menuOpen ? t('nav.close') : t('nav.open')}
          aria-expanded={menuOpen}
          onClick={() => setMenuOpen(!menuOpen)}
        >
          <span aria-hidden="true">☰</span>
        </button>
        <Link href="/" class="brand">
          <img src="/favicon.svg" alt="" width={28} height={28} />
          <span>{t('app.name')}</span>
        </Link>
        <span class="tagline">{t('app.tagline')}</span>
        <LanguageSwitch />
      </header>
      <nav class="sidebar" aria-label={t('nav.home')}>
        <Link href="/" onNavigate={() => setMenuOpen(false)}>
          {t('nav.home')}
        </Link>
      </nav>
      <main class="content">
        <Page path={path} />
      </main>
      <footer class="footer">{t('footer.privacy')}</footer>
    </div>
  );
}

export function App() {
  return (
    <I18nProvider>
      <Shell />
    </I18nProvider>
  );
}
