import { render } from 'preact';
import { App } from './app';
import { installErrorReporting } from './report-errors';
import './styles.css';

installErrorReporting();
render(<App />, document.getElementById('app')!);
