import { useEffect, useState } from 'preact/hooks';
import { api, type ApiError } from '../api';
import { ErrorNote, Field, Note } from '../components/form';
import { useI18n, useTitle } from '../i18n';
import { Link, navigate } from '../router';

function tokenFromUrl(): string {
  return new URLSearchParams(location.search).get('token') ?? '';
}

export function VerifyPage() {
  const { t } = useI18n();
  useTitle(t('verify.title'));
  const [state, setState] = useState<'working' | 'done' | 'failed'>('working');
  const [error, setError] = useState<ApiError | null>(null);
  useEffect(() => {
    void api('POST', '/auth/verify', { token: tokenFromUrl() }).then((r) => {
      setState(r.ok ? 'done' : 'failed');
      if (!r.ok) setError(r.error);
    });
  }, []);
  return (
    <section class="card narrow">
      <h1>{t('verify.title')}</h1>
      {state === 'working' && <p>{t('health.loading')}</p>}
      {state === 'done' && (
        <>
          <Note>{t('verify.done')}</Note>
          <Link href="/signin" class="button primary">
            {t('nav.signin')}
          </Link>
        </>
      )}
      {state === 'failed' && (
        <>
          <ErrorNote error={error} />
          <ResendVerification />
        </>
      )}
    </section>
  );
}

// A used or expired link: a new one, to the address the person gives.
function ResendVerification() {
  const { t } = useI18n();
  const [email, setEmail] = useState('');
  const [sent, setSent] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    const r = await api('POST', '/auth/resend-verification', { email });
    setSent(r.ok);
    setError(r.ok ? null : r.error);
  };
  if (sent) return <Note>{t('verify.resent')}</Note>;
  return (
    <form onSubmit={submit} data-testid="resend">
      <p>{t('verify.resend_intro')}</p>
      <Field label={t('field.email')} name="email" type="email" value={email} onInput={setEmail} autocomplete="email" required />
      <ErrorNote error={error} />
      <button type="submit" class="primary">
        {t('verify.resend')}
      </button>
    </form>
  );
}

export function ForgotPasswordPage() {
  const { t } = useI18n();
  useTitle(t('forgot.title'));
  const [email, setEmail] = useState('');
  const [sent, setSent] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    const r = await api('POST', '/auth/password-reset', { email });
    if (r.ok) setSent(true);
    else setError(r.error);
  };
  return (
    <section class="card narrow">
      <h1>{t('forgot.title')}</h1>
      {sent ? (
        <>
          <Note>{t('forgot.sent')}</Note>
          <p class="muted">
            <Link href="/demo/outbox">{t('demo.outbox_link')}</Link>
          </p>
        </>
      ) : (
        <form onSubmit={submit}>
          <Field label={t('field.email')} name="email" type="email" value={email} onInput={setEmail} autocomplete="email" required />
          <ErrorNote error={error} />
          <button type="submit" class="primary">
            {t('forgot.submit')}
          </button>
        </form>
      )}
    </section>
  );
}

export function ResetPasswordPage() {
  const { t } = useI18n();
  useTitle(t('reset.title'));
  const [password, setPassword] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const r = await api('POST', '/auth/password-reset/confirm', { token: tokenFromUrl(), password });
    if (r.ok) setDone(true);
    else setError(r.error);
  };
  return (
    <section class="card narrow">
      <h1>{t('reset.title')}</h1>
      {done ? (
        <>
          <Note>{t('reset.done')}</Note>
          <button class="primary" onClick={() => navigate('/signin')}>
            {t('nav.signin')}
          </button>
        </>
      ) : (
        <form onSubmit={submit}>
          <Field
            label={t('field.new_password')}
            name="password"
            type="password"
            value={password}
            onInput={setPassword}
            autocomplete="new-password"
            hint={t('signup.password_hint')}
            required
          />
          <ErrorNote error={error} />
          <button type="submit" class="primary">
            {t('reset.submit')}
          </button>
        </form>
      )}
    </section>
  );
}
