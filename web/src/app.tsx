// The shell: header with the language switch, navigation (a drawer on phones, a sidebar on
// desktops), and the page for the current path.
import { useEffect, useState } from 'preact/hooks';
import { api } from './api';
import { I18nProvider, languages, useI18n, type Language } from './i18n';
import { Link, navigate, usePath } from './router';
import { SessionProvider, useSession, type Profile } from './session';
import { HomePage, StatusPage } from './pages/home';
import { NotFoundPage } from './pages/not-found';
import { PrivacyPage, SignUpPage } from './pages/signup';
import { SignInPage } from './pages/signin';
import { ForgotPasswordPage, ResetPasswordPage, VerifyPage } from './pages/verify';
import { CancelPage, DemoOutboxPage, GoodbyePage, ProfilePage, SecurityPage } from './pages/account';
import { LivePage } from './pages/live';
import { AddDevicePage, DevicesPage, GridPage, SharesPage } from './pages/devices';
import { DevicePage } from './pages/camera';
import { PlaybackPage } from './pages/playback';
import { EventsPage, kindLabel, useUnread } from './pages/events';
import { NotificationsPage } from './pages/notifications';
import { useLiveNotifications } from './live-notifications';

// A page loaded only when it is first opened (kept out of the app's first download).
function lazyPage(load: () => Promise<{ default: () => preact.JSX.Element | null }>) {
  return function LazyPage() {
    const [Loaded, setLoaded] = useState<(() => preact.JSX.Element | null) | null>(null);
    useEffect(() => {
      void load().then((m) => setLoaded(() => m.default));
    }, []);
    return Loaded ? <Loaded /> : <section class="card muted" />;
  };
}

const pages: Record<string, () => preact.JSX.Element | null> = {
  '/': HomePage,
  '/status': StatusPage,
  '/signup': SignUpPage,
  '/signin': SignInPage,
  '/verify': VerifyPage,
  '/forgot-password': ForgotPasswordPage,
  '/reset-password': ResetPasswordPage,
  '/privacy': PrivacyPage,
  '/account': ProfilePage,
  '/account/security': SecurityPage,
  '/account/cancel': CancelPage,
  '/goodbye': GoodbyePage,
  '/demo/outbox': DemoOutboxPage,
  '/live': LivePage,
  '/devices': DevicesPage,
  '/devices/add': AddDevicePage,
  '/devices/grid': GridPage,
  '/shares': SharesPage,
  '/events': EventsPage,
  '/account/notifications': NotificationsPage,
  '/account/privacy': lazyPage(() => import('./pages/privacy-centre')),
};

// Pages for signed-in people: a signed-out visit goes to sign-in, and back afterwards.
const signedInOnly = /^\/(devices|shares|account|events)(\/|$)/;

function Page({ path }: { path: string }) {
  const { user, loading, unreachable } = useSession();
  const { t } = useI18n();
  const guarded = signedInOnly.test(path);
  useEffect(() => {
    if (guarded && !loading && !unreachable && !user) {
      navigate(`/signin?next=${encodeURIComponent(path + location.search + location.hash)}`);
    }
  }, [guarded, loading, unreachable, user, path]);
  if (guarded && !user) return <section class="card muted">{loading ? t('health.loading') : ''}</section>;
  const device = path.match(/^\/devices\/([0-9a-f]{32})$/);
  if (device) return <DevicePage key={device[1]} id={device[1]} />;
  const playback = path.match(/^\/devices\/([0-9a-f]{32})\/playback$/);
  if (playback) return <PlaybackPage id={playback[1]} />;
  const Component = pages[path];
  return Component ? <Component /> : <NotFoundPage path={path} />;
}

function LanguageSwitch() {
  const { language, setLanguage, t } = useI18n();
  const { user, setUser } = useSession();
  const change = async (next: Language) => {
    setLanguage(next);
    if (user) {
      // Signed in: the profile keeps the choice (it also picks the language of e-mails).
      const r = await api<Profile>('PATCH', '/me', { language: next });
      if (r.ok) setUser(r.data);
    }
  };
  return (
    <label class="language">
      <span class="visually-hidden">{t('lang.label')}</span>
      <select
        aria-label={t('lang.label')}
        data-testid="language"
        value={language}
        onChange={(e) => void change((e.target as HTMLSelectElement).value as Language)}
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

// The unread count, as a badge: "99+" past 99.
function UnreadBadge({ count }: { count: number }) {
  const { t } = useI18n();
  if (count <= 0) return null;
  return (
    <span class="badge" data-testid="unread-badge" aria-label={t('events.badge', { count })}>
      {count > 99 ? '99+' : count}
    </span>
  );
}

function Navigation({ close, unread }: { close: () => void; unread: number }) {
  const { t } = useI18n();
  const { user, setUser } = useSession();
  const signOut = async () => {
    await api('POST', '/auth/logout');
    setUser(null);
    close();
    navigate('/signin');
  };
  return (
    <nav class="sidebar" aria-label={t('nav.main')}>
      {user && (
        <span class="who-in-menu" data-testid="signed-in-menu">
          {user.display_name || user.email}
        </span>
      )}
      {!user && (
        <Link href="/" onNavigate={close}>
          {t('nav.home')}
        </Link>
      )}
      {user ? (
        <>
          <Link href="/devices" onNavigate={close}>
            {t('nav.devices')}
          </Link>
          <Link href="/events" onNavigate={close} testId="nav-events">
            {t('nav.events')} <UnreadBadge count={unread} />
          </Link>
          <Link href="/shares" onNavigate={close}>
            {t('nav.shares')}
          </Link>
          <Link href="/account" onNavigate={close}>
            {t('nav.account')}
          </Link>
          <Link href="/account/security" onNavigate={close}>
            {t('account.security')}
          </Link>
          <Link href="/account/privacy" onNavigate={close}>
            {t('nav.privacy_centre')}
          </Link>
          <button class="link" onClick={signOut}>
            {t('nav.signout')}
          </button>
        </>
      ) : (
        <>
          <Link href="/signin" onNavigate={close}>
            {t('nav.signin')}
          </Link>
          <Link href="/signup" onNavigate={close}>
            {t('nav.signup')}
          </Link>
        </>
      )}
      <Link href="/privacy" onNavigate={close}>
        {t('nav.privacy')}
      </Link>
      <Link href="/status" onNavigate={close}>
        {t('nav.status')}
      </Link>
    </nav>
  );
}

// Offline (no network, or the server cannot be reached): said on every page, plainly.
function OfflineBanner() {
  const { t } = useI18n();
  const { unreachable } = useSession();
  const [online, setOnline] = useState(navigator.onLine);
  useEffect(() => {
    const update = () => setOnline(navigator.onLine);
    window.addEventListener('online', update);
    window.addEventListener('offline', update);
    return () => {
      window.removeEventListener('online', update);
      window.removeEventListener('offline', update);
    };
  }, []);
  if (online && !unreachable) return null;
  return (
    <div class="note warn" role="status" data-testid="offline">
      {online ? t('offline.unreachable') : t('offline.banner')}
    </div>
  );
}

// A demo server says so on every page: its accounts and cameras are for trying Nightjar,
// and its mail is not sent but kept in the demo outbox.
function DemoBanner() {
  const { t } = useI18n();
  const [demo, setDemo] = useState(false);
  useEffect(() => {
    void api<{ demo: boolean }>('GET', '/demo').then((r) => setDemo(r.ok && r.data.demo));
  }, []);
  if (!demo) return null;
  return (
    <div class="demo-banner" role="status" data-testid="demo-banner">
      {t('demo.banner')} <Link href="/demo/outbox">{t('demo.outbox_title')}</Link>
    </div>
  );
}

// After the privacy policy changed, the person is asked at their next sign-in: read it, then
// accept. Until they do, nothing changes for them.
function PolicyBanner() {
  const { t } = useI18n();
  const { user } = useSession();
  const [policy, setPolicy] = useState<{ current: string; must_accept: boolean } | null>(null);
  useEffect(() => {
    if (!user) return setPolicy(null);
    void api<{ policy?: { current: string; must_accept: boolean } }>('GET', '/me').then((r) => setPolicy(r.ok ? (r.data.policy ?? null) : null));
  }, [user?.id]);
  if (!policy?.must_accept) return null;
  const accept = async () => {
    const r = await api('POST', '/me/policy', { version: policy.current });
    if (r.ok) setPolicy({ ...policy, must_accept: false });
  };
  return (
    <div class="note warn" role="status" data-testid="policy-banner">
      {t('policy.changed', { version: policy.current })} <Link href="/privacy">{t('policy.read')}</Link>{' '}
      <button class="primary" onClick={() => void accept()} data-testid="policy-accept">
        {t('policy.accept')}
      </button>
    </div>
  );
}

// The event's picture is made from the first keyframe after it began, so it may come a moment
// after the notification: asked again once, and an empty frame until then.
function ToastPicture({ src }: { src: string }) {
  const [attempt, setAttempt] = useState(0);
  const [failed, setFailed] = useState(false);
  if (failed && attempt >= 2) return <span class="toast-picture" aria-hidden="true" />;
  return (
    <img
      class="toast-picture"
      src={attempt ? `${src}?again=${attempt}` : src}
      alt=""
      width={64}
      height={36}
      onError={() => {
        setFailed(true);
        if (attempt < 2) window.setTimeout(() => setAttempt((a) => a + 1), 1500);
      }}
    />
  );
}

// New events as they happen, over the page: what, where, a picture, and a way to the list.
function Toasts({ enabled }: { enabled: boolean }) {
  const { t } = useI18n();
  const describe = (n: { kind: string; device_name: string; grouped: number }) => ({
    title: t('notify.toast', { kind: kindLabel(t, n.kind), camera: n.device_name }),
    body: n.grouped > 0 ? t('notify.grouped', { count: n.grouped }) : '',
  });
  const { toasts, dismiss } = useLiveNotifications(enabled, describe);
  if (toasts.length === 0) return null;
  return (
    <div class="toasts" role="status" aria-live="polite" data-testid="toasts">
      {toasts.map((n) => {
        const { title, body } = describe(n);
        return (
          <div class="toast" key={n.id} data-testid="toast" data-kind={n.kind}>
            <ToastPicture src={n.snapshot} />
            <Link href="/events" onNavigate={() => dismiss(n.id)}>
              <strong>{title}</strong>
              {body && <span>{body}</span>}
            </Link>
            <button type="button" class="link" aria-label={t('notify.dismiss')} onClick={() => dismiss(n.id)}>
              ×
            </button>
          </div>
        );
      })}
    </div>
  );
}

function Shell() {
  const { t } = useI18n();
  const { user } = useSession();
  const path = usePath();
  const [menuOpen, setMenuOpen] = useState(false);
  const unread = useUnread(Boolean(user));
  return (
    <div class={`shell${menuOpen ? ' menu-open' : ''}`}>
      <a href="#main" class="skip-link">
        {t('nav.skip')}
      </a>
      <header class="topbar">
        <button
          class="menu-button"
          aria-label={menuOpen ? t('nav.close') : t('nav.open')}
          aria-expanded={menuOpen}
          onClick={() => setMenuOpen(!menuOpen)}
        >
          <span aria-hidden="true">☰</span>
          {unread > 0 && <span class="menu-dot" aria-hidden="true" />}
        </button>
        <Link href={user ? '/devices' : '/'} class="brand">
          <img src="/favicon.svg" alt="" width={28} height={28} />
          <span>{t('app.name')}</span>
        </Link>
        <span class="tagline">{t('app.tagline')}</span>
        {user && (
          <span class="who" data-testid="signed-in-as">
            {user.display_name || user.email}
          </span>
        )}
        <LanguageSwitch />
      </header>
      <Navigation close={() => setMenuOpen(false)} unread={unread} />
      <main class="content" id="main" tabIndex={-1}>
        <OfflineBanner />
        <DemoBanner />
        <PolicyBanner />
        <Page path={path} />
      </main>
      <Toasts enabled={Boolean(user)} />
      <footer class="footer">{t('footer.privacy')}</footer>
    </div>
  );
}

export function App() {
  return (
    <I18nProvider>
      <SessionProvider>
        <Shell />
      </SessionProvider>
    </I18nProvider>
  );
}
