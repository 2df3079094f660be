// Small form pieces shared by the account pages.
import { h, type ComponentChildren } from 'preact';
import type { ApiError } from '../api';
import { useI18n, type MessageKey } from '../i18n';

export function Field(props: {
  label: string;
  name: string;
  type?: 'text' | 'email' | 'password';
  value: string;
  onInput: (value: string) => void;
  autocomplete?: string;
  required?: boolean;
  hint?: string;
  inputmode?: 'numeric' | 'text' | 'email';
}) {
  return (
    <label class="field">
      <span>{props.label}</span>
      {h('input', {
        name: props.name,
        type: props.type ?? 'text',
        value: props.value,
        required: props.required,
        autocomplete: props.autocomplete,
        inputMode: props.inputmode,
        onInput: (e: Event) => props.onInput((e.target as HTMLInputElement).value),
      } as Record<string, unknown>)}
      {props.hint && <small class="muted">{props.hint}</small>}
    </label>
  );
}

// A server error in the reader's language: known codes have messages, others show the
// server's own (English) message.
// A server error in the person's language, by its code. A code the catalogue does not know
// yet shows the server's own message in English, and a general sentence naming the code in
// any other language (raw English never reaches a zh-CN page).
export function ErrorNote({ error }: { error: ApiError | null }) {
  const { t, language } = useI18n();
  if (!error) return null;
  const key = `error.${error.code}` as MessageKey;
  const known = t(key) !== key;
  const text = known
    ? t(key)
    : language === 'en' && error.message
      ? error.message
      : t('error.unknown', { code: error.code });
  // How long to wait, when the server said (lockouts, limits).
  const wait =
    error.retryAfter && error.retryAfter > 1
      ? error.retryAfter < 120
        ? t('error.wait_seconds', { n: error.retryAfter })
        : t('error.wait_minutes', { n: Math.ceil(error.retryAfter / 60) })
      : '';
  return (
    <p class="note error" role="alert" data-testid="error">
      {text}
      {wait && ` ${wait}`}
    </p>
  );
}

export function Note({ children, kind = 'ok' }: { children: ComponentChildren; kind?: 'ok' | 'info' }) {
  return (
    <p class={`note ${kind}`} role="status" data-testid="note">
      {children}
    </p>
  );
}
