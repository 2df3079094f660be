// The signed-in person's pages: profile and language, security (password, two-step
// verification, sessions), and cancellation.
import { useEffect, useState } from 'preact/hooks';
import { api, type ApiError } from '../api';
import { ErrorNote, Field, Note } from '../components/form';
import { languages, useI18n, useTitle, type Language } from '../i18n';
import { describeClient } from '../user-agent';
import { Link, navigate } from '../router';
import { useSession, type Profile } from '../session';

function useSignedIn(): Profile | null {
  const { user, loading } = useSession();
  useEffect(() => {
    if (!loading && !user) navigate('/signin');
  }, [loading, user]);
  return user;
}

function AccountTabs() {
  const { t } = useI18n();
  return (
    <nav class="tabs" aria-label={t('nav.account')}>
      <Link href="/account">{t('account.profile')}</Link>
      <Link href="/account/security">{t('account.security')}</Link>
      <Link href="/account/notifications">{t('notify.title')}</Link>
      <Link href="/account/cancel">{t('account.cancel')}</Link>
    </nav>
  );
}

export function ProfilePage() {
  const { t } = useI18n();
  useTitle(t('account.title'));
  const user = useSignedIn();
  const { setUser } = useSession();
  const [name, setName] = useState('');
  const [language, setLanguage] = useState<Language>('en');
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  useEffect(() => {
    if (user) {
      setName(user.display_name);
      setLanguage(user.language);
    }
  }, [user?.id]);
  if (!user) return null;
  const save = async (e: Event) => {
    e.preventDefault();
    const r = await api<Profile>('PATCH', '/me', { display_name: name, language });
    if (r.ok) {
      setUser(r.data);
      setSaved(true);
      setError(null);
    } else {
      setError(r.error);
    }
  };
  return (
    <section class="card">
      <h1>{t('account.title')}</h1>
      <AccountTabs />
      <p class="muted" data-testid="account-email">
        {user.email}
      </p>
      <form onSubmit={save}>
        <Field label={t('field.display_name')} name="display_name" value={name} onInput={setName} autocomplete="nickname" />
        <label class="field">
          <span>{t('lang.label')}</span>
          <select name="language" value={language} onChange={(e) => setLanguage((e.target as HTMLSelectElement).value as Language)}>
            {languages.map((l) => (
              <option value={l.code}>{l.name}</option>
            ))}
          </select>
        </label>
        <ErrorNote error={error} />
        {saved && <Note>{t('account.saved')}</Note>}
        <button type="submit" class="primary">
          {t('action.save')}
        </button>
      </form>
    </section>
  );
}

interface SessionRow {
  id: string;
  client: string;
  created_at: string;
  last_seen: string;
  current: boolean;
}

function PasswordForm() {
  const { t } = useI18n();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [endOthers, setEndOthers] = useState(true);
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const r = await api('POST', '/me/password', { current_password: current, new_password: next, end_other_sessions: endOthers });
    setDone(r.ok);
    setError(r.ok ? null : r.error);
    if (r.ok) {
      setCurrent('');
      setNext('');
    }
  };
  return (
    <form onSubmit={submit}>
      <h2>{t('security.password')}</h2>
      <Field label={t('field.current_password')} name="current_password" type="password" value={current} onInput={setCurrent} autocomplete="current-password" />
      <Field label={t('field.new_password')} name="new_password" type="password" value={next} onInput={setNext} autocomplete="new-password" hint={t('signup.password_hint')} />
      <label class="check">
        <input type="checkbox" checked={endOthers} onChange={(e) => setEndOthers((e.target as HTMLInputElement).checked)} />
        <span>{t('security.end_others_too')}</span>
      </label>
      <ErrorNote error={error} />
      {done && <Note>{t('security.password_changed')}</Note>}
      <button type="submit">{t('security.change_password')}</button>
    </form>
  );
}

function TwoFactor({ enabled, onChange }: { enabled: boolean; onChange: () => void }) {
  const { t } = useI18n();
  const [enrol, setEnrol] = useState<{ secret: string; qr_svg: string } | null>(null);
  const [code, setCode] = useState('');
  const [password, setPassword] = useState('');
  const [codes, setCodes] = useState<string[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  const begin = async () => {
    const r = await api<{ secret: string; qr_svg: string }>('POST', '/me/totp');
    if (r.ok) setEnrol(r.data);
    else setError(r.error);
  };
  const confirm = async (e: Event) => {
    e.preventDefault();
    const r = await api<{ recovery_codes: string[] }>('POST', '/me/totp/confirm', { code });
    if (r.ok) {
      setCodes(r.data.recovery_codes);
      setEnrol(null);
      setError(null);
      onChange();
    } else {
      setError(r.error);
    }
  };
  const disable = async (e: Event) => {
    e.preventDefault();
    const r = await api('DELETE', '/me/totp', { password, code });
    setError(r.ok ? null : r.error);
    if (r.ok) {
      setCodes(null);
      onChange();
    }
  };

  return (
    <div>
      <h2>{t('security.totp')}</h2>
      <p class="muted">{enabled ? t('security.totp_on') : t('security.totp_off')}</p>
      {codes && (
        <div class="codes" data-testid="recovery-codes">
          <p>{t('security.recovery_codes')}</p>
          <ul>
            {codes.map((c) => (
              <li class="mono">{c}</li>
            ))}
          </ul>
          <p class="muted">{t('security.totp_end_others')}</p>
          <button onClick={() => void api('POST', '/me/sessions/end-others').then(onChange)}>{t('security.end_others')}</button>
        </div>
      )}
      {!enabled && !enrol && <button onClick={begin}>{t('security.totp_enable')}</button>}
      {enrol && (
        <form onSubmit={confirm}>
          <p>{t('security.totp_scan')}</p>
          <img class="qr" alt={t('security.totp_qr_alt')} src={`data:image/svg+xml;utf8,${encodeURIComponent(enrol.qr_svg)}`} />
          <p class="muted">
            {t('security.totp_secret')} <code data-testid="totp-secret">{enrol.secret}</code>
          </p>
          <Field label={t('signin.code')} name="code" value={code} onInput={setCode} inputmode="numeric" autocomplete="one-time-code" />
          <button type="submit" class="primary">
            {t('security.totp_confirm')}
          </button>
        </form>
      )}
      {enabled && (
        <form onSubmit={disable}>
          <Field label={t('field.password')} name="password" type="password" value={password} onInput={setPassword} autocomplete="current-password" />
          <Field label={t('signin.code')} name="code" value={code} onInput={setCode} inputmode="numeric" />
          <button type="submit">{t('security.totp_disable')}</button>
        </form>
      )}
      <ErrorNote error={error} />
    </div>
  );
}

function Sessions() {
  const { t, formatDate } = useI18n();
  const [sessions, setSessions] = useState<SessionRow[]>([]);
  const load = async () => {
    const r = await api<{ sessions: SessionRow[] }>('GET', '/me/sessions');
    if (r.ok) setSessions(r.data.sessions);
  };
  useEffect(() => {
    void load();
  }, []);
  const end = async (id: string) => {
    await api('DELETE', `/me/sessions/${encodeURIComponent(id)}`);
    void load();
  };
  const endOthers = async () => {
    await api('POST', '/me/sessions/end-others');
    void load();
  };
  const when = (s: string) => formatDate(s, 'datetime');
  const client = (ua: string) => {
    const { browser, system } = describeClient(ua);
    return system ? t('security.client', { browser, system }) : browser;
  };
  return (
    <div>
      <h2>{t('security.sessions')}</h2>
      <ul class="sessions" data-testid="sessions">
        {sessions.map((s) => (
          <li>
            <div>
              <strong title={s.client} data-testid="session-client">
                {client(s.client)}
              </strong> {s.current && <span class="badge">{t('security.this_session')}</span>}
              <div class="muted">
                {t('security.started', { when: when(s.created_at) })} · {t('security.last_seen', { when: when(s.last_seen) })}
              </div>
            </div>
            {!s.current && <button onClick={() => end(s.id)}>{t('security.end')}</button>}
          </li>
        ))}
      </ul>
      {sessions.length > 1 && <button onClick={endOthers}>{t('security.end_others')}</button>}
    </div>
  );
}

export function SecurityPage() {
  const { t } = useI18n();
  useTitle(t('account.security'));
  const user = useSignedIn();
  const { refresh } = useSession();
  if (!user) return null;
  return (
    <section class="card">
      <h1>{t('account.title')}</h1>
      <AccountTabs />
      <PasswordForm />
      <TwoFactor enabled={user.totp_enabled} onChange={() => void refresh()} />
      <Sessions />
    </section>
  );
}

export function CancelPage() {
  const { t } = useI18n();
  useTitle(t('cancel.title'));
  const user = useSignedIn();
  const { setUser } = useSession();
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  // What else ends with the account, said before the person confirms: their cameras are
  // removed (as if each were removed by hand), and cameras shared with them are no longer.
  const [devices, setDevices] = useState<{ owned: number; shared: number } | null>(null);
  useEffect(() => {
    void api<{ devices: { role: string }[] }>('GET', '/devices').then((r) => {
      if (r.ok) {
        const owned = r.data.devices.filter((d) => d.role === 'owner').length;
        setDevices({ owned, shared: r.data.devices.length - owned });
      }
    });
  }, []);
  if (!user) return null;
  const submit = async (e: Event) => {
    e.preventDefault();
    const body: Record<string, string> = { password };
    if (user.totp_enabled) body.totp = code;
    const r = await api('DELETE', '/me', body);
    if (r.ok) {
      setUser(null);
      navigate('/goodbye');
    } else {
      setError(r.error);
    }
  };
  return (
    <section class="card">
      <h1>{t('account.title')}</h1>
      <AccountTabs />
      <h2>{t('cancel.title')}</h2>
      <p class="note warn" role="note">
        {t('cancel.warning')}
      </p>
      {devices && devices.owned > 0 && (
        <p class="note warn" role="note" data-testid="cancel-cameras">
          {t('cancel.cameras', { n: devices.owned })}
        </p>
      )}
      {devices && devices.shared > 0 && (
        <p class="note" role="note">
          {t('cancel.shared', { n: devices.shared })}
        </p>
      )}
      <form onSubmit={submit}>
        <Field label={t('field.password')} name="password" type="password" value={password} onInput={setPassword} autocomplete="current-password" required />
        {user.totp_enabled && <Field label={t('signin.code')} name="totp" value={code} onInput={setCode} inputmode="numeric" />}
        <ErrorNote error={error} />
        <button type="submit" class="danger">
          {t('cancel.submit')}
        </button>
      </form>
    </section>
  );
}

export function GoodbyePage() {
  const { t } = useI18n();
  useTitle(t('goodbye.title'));
  return (
    <section class="card narrow">
      <h1>{t('goodbye.title')}</h1>
      <Note>{t('goodbye.body')}</Note>
    </section>
  );
}

interface Mail {
  to: string;
  subject: string;
  body: string;
  created_at: string;
}

export function DemoOutboxPage() {
  const { t } = useI18n();
  useTitle(t('demo.outbox_title'));
  const [mails, setMails] = useState<Mail[] | null>(null);
  useEffect(() => {
    void api<{ mails: Mail[] }>('GET', '/demo/outbox').then((r) => setMails(r.ok ? r.data.mails : []));
  }, []);
  const linkify = (body: string) =>
    body.split(/(https?:\/\/\S+)/g).map((part) => (/^https?:\/\//.test(part) ? <a href={part}>{part}</a> : part));
  return (
    <section class="card">
      <h1>{t('demo.outbox_title')}</h1>
      <p class="muted">{t('demo.outbox_intro')}</p>
      {mails?.length === 0 && <p>{t('demo.outbox_empty')}</p>}
      {mails?.map((m) => (
        <article class="mail">
          <h3>{m.subject}</h3>
          <p class="muted">→ {m.to}</p>
          <pre>{linkify(m.body)}</pre>
        </article>
      ))}
    </section>
  );
}
