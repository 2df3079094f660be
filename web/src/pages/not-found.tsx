import { useI18n, useTitle } from '../i18n';
import { Link } from '../router';

export function NotFoundPage({ path }: { path: string }) {
  const { t } = useI18n();
  useTitle(t('notfound.title'));
  return (
    <section class="card">
      <h1>{t('notfound.title')}</h1>
      <p>{t('notfound.body', { path })}</p>
      <Link href="/">{t('notfound.home')}</Link>
    </section>
  );
}
