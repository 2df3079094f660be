import { useState } from 'preact/hooks';
import { api, type ApiError } from '../api';
import { ErrorNote, Field } from '../components/form';
import { useI18n, useTitle } from '../i18n';
import { Link, navigate, nextPath } from '../router';
import { useSession, type Profile } from '../session';

export function SignInPage() {
  const { t } = useI18n();
  useTitle(t('signin.title'));
  const { setUser } = useSession();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [needCode, setNeedCode] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    const body: Record<string, string> = { email, password };
    if (needCode) body.totp = code;
    const r = await api<{ user: Profile }>('POST', '/auth/login', body);
    setBusy(false);
    if (r.ok) {
      setUser(r.data.user);
      navigate(nextPath());
      return;
    }
    if (r.error.code === 'totp_required') {
      setNeedCode(true);
      setError(null);
      return;
    }
    setError(r.error);
  };

  return (
    <section class="card narrow">
      <h1>{t('signin.title')}</h1>
      <form onSubmit={submit}>
        {!needCode && (
          <>
            <Field label={t('field.email')} name="email" type="email" value={email} onInput={setEmail} autocomplete="username" required />
            <Field
              label={t('field.password')}
              name="password"
              type="password"
              value={password}
              onInput={setPassword}
              autocomplete="current-password"
              required
            />
          </>
        )}
        {needCode && (
          <Field
            label={t('signin.code')}
            name="totp"
            value={code}
            onInput={setCode}
            autocomplete="one-time-code"
            inputmode="numeric"
            hint={t('signin.code_hint')}
            required
          />
        )}
        <ErrorNote error={error} />
        <button type="submit" class="primary" disabled={busy}>
          {needCode ? t('signin.verify') : t('signin.submit')}
        </button>
      </form>
      <p class="muted">
        <Link href="/forgot-password">{t('signin.forgot')}</Link> · <Link href="/signup">{t('nav.signup')}</Link>
      </p>
    </section>
  );
}
