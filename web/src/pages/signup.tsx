import { useEffect, useState } from 'preact/hooks';
import { api, type ApiError } from '../api';
import { ErrorNote, Field, Note } from '../components/form';
import { Markdown } from '../components/markdown';
import { useI18n, useTitle } from '../i18n';
import { Link } from '../router';

interface Policy {
  version: string;
  text: string;
}

export function usePolicy(): Policy | null {
  const { language } = useI18n();
  const [policy, setPolicy] = useState<Policy | null>(null);
  useEffect(() => {
    void api<Policy>('GET', `/policy?language=${encodeURIComponent(language)}`).then((r) => {
      if (r.ok) setPolicy(r.data);
    });
  }, [language]);
  return policy;
}

export function SignUpPage() {
  const { t, language } = useI18n();
  useTitle(t('signup.title'));
  const policy = usePolicy();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [accepted, setAccepted] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [sent, setSent] = useState(false);
  const [busy, setBusy] = useState(false);
  // Where their data will be kept, when the operator offers more than one region.
  const [regions, setRegions] = useState<{ id: string; name: string }[]>([]);
  const [region, setRegion] = useState('');
  useEffect(() => {
    void api<{ regions: { id: string; name: string }[]; default: string }>('GET', '/regions').then((r) => {
      if (!r.ok) return;
      setRegions(r.data.regions);
      setRegion(r.data.default);
    });
  }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!policy || !accepted) return;
    setBusy(true);
    const r = await api('POST', '/auth/register', {
      email,
      password,
      language,
      policy_version: policy.version,
      ...(regions.length > 1 ? { region } : {}),
    });
    setBusy(false);
    if (r.ok) setSent(true);
    else setError(r.error);
  };

  if (sent) {
    return (
      <section class="card narrow">
        <h1>{t('signup.sent_title')}</h1>
        <Note>{t('signup.sent_body', { email })}</Note>
        <p class="muted">
          <Link href="/demo/outbox">{t('demo.outbox_link')}</Link>
        </p>
      </section>
    );
  }
  return (
    <section class="card narrow">
      <h1>{t('signup.title')}</h1>
      <form onSubmit={submit} novalidate>
        <Field label={t('field.email')} name="email" type="email" value={email} onInput={setEmail} autocomplete="email" required />
        <Field
          label={t('field.password')}
          name="password"
          type="password"
          value={password}
          onInput={setPassword}
          autocomplete="new-password"
          hint={t('signup.password_hint')}
          required
        />
        {regions.length > 1 && (
          <label class="field">
            <span>{t('signup.region')}</span>
            <select name="region" value={region} onChange={(e) => setRegion((e.target as HTMLSelectElement).value)} data-testid="signup-region">
              {regions.map((r) => (
                <option value={r.id}>{r.name}</option>
              ))}
            </select>
          </label>
        )}
        <div class="policy-box" data-testid="policy" tabIndex={0} role="region" aria-label={t('nav.privacy')}>
          {policy ? <Markdown text={policy.text} /> : t('health.loading')}
        </div>
        <label class="check">
          <input type="checkbox" name="accept" checked={accepted} onChange={(e) => setAccepted((e.target as HTMLInputElement).checked)} />
          <span>
            {t('signup.accept', { version: policy?.version ?? '' })} (<Link href="/privacy">{t('nav.privacy')}</Link>)
          </span>
        </label>
        <ErrorNote error={error} />
        <button type="submit" class="primary" disabled={!accepted || !policy || busy}>
          {t('signup.submit')}
        </button>
      </form>
      <p class="muted">
        {t('signup.have_account')} <Link href="/signin">{t('nav.signin')}</Link>
      </p>
    </section>
  );
}

export function PrivacyPage() {
  const { t } = useI18n();
  useTitle(t('nav.privacy'));
  const policy = usePolicy();
  return (
    <section class="card">
      {policy ? <Markdown text={policy.text} /> : <p>{t('health.loading')}</p>}
    </section>
  );
}
