import { render } from 'preact';
import { App } from './app';
import { installErrorReporting } from './report-errors';
import './styles.css';

installErrorReporting();
render(<App />, document.getElementById('app')!);

// The service worker keeps the app shell for offline use (never API answers).
if ('serviceWorker' in navigator && location.protocol !== 'file:') {
  window.addEventListener('load', () => void navigator.serviceWorker.register('/sw.js').catch(() => undefined));
}
