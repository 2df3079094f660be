// A person's whole account life in Chromium: sign up → verify (the mail read from a real
// SMTP receiver) → sign in → turn on two-step verification → sign in with a code → switch
// language → cancel; screenshots at each step.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { startServer, outputDir } from './server.mjs';
import { launch } from './browser.mjs';
import { startSmtp, totp } from './smtp.mjs';

let server;
let browser;
let smtp;
const out = path.join(outputDir(), 'browser');
const email = 'robin@example.org';
const password = 'owl at dusk 77';

before(async () => {
  await mkdir(out, { recursive: true });
  smtp = await startSmtp();
  server = await startServer({ config: `[smtp]\nurl = "${smtp.url}"\n` });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await smtp?.close();
  assert.equal(await server?.stop(), 0);
});

const shot = (page, name) => page.screenshot({ path: path.join(out, `account-${name}.png`), fullPage: true });

test('sign up, verify, sign in with 2FA, change language, cancel', async () => {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1280, height: 900 });
  const problems = [];
  page.on('pageerror', (e) => problems.push(String(e)));

  // Sign up: the policy is shown, and must be accepted.
  await page.goto(server.url + '/signup');
  await page.getByRole('heading', { name: 'Create your account' }).waitFor();
  await page.getByTestId('policy').getByText('Nightjar privacy policy').waitFor();
  await page.getByLabel('E-mail address').fill(email);
  await page.getByLabel('Password').fill(password);
  const submit = page.getByRole('button', { name: 'Create account' });
  assert.equal(await submit.isDisabled(), true, 'cannot sign up without accepting the policy');
  await page.getByRole('checkbox').check();
  await shot(page, '1-signup');
  await submit.click();
  await page.getByRole('heading', { name: 'Check your e-mail' }).waitFor();

  // Verify with the link from the mail.
  const link = await smtp.link(email, '/verify');
  await page.goto(link.replace(/^https?:\/\/[^/]+/, server.url));
  await page.getByText('Your address is confirmed').waitFor();
  await shot(page, '2-verified');

  // Sign in.
  await page.getByRole('link', { name: 'Sign in' }).first().click();
  await page.getByLabel('E-mail address').fill(email);
  await page.getByLabel('Password').fill('wrong password here');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('error').getByText('The e-mail address or password is wrong.').waitFor();
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  // Signing in lands on the cameras.
  await page.getByRole('heading', { name: 'Your cameras' }).waitFor();
  await page.getByRole('link', { name: 'Account' }).click();
  await page.getByRole('heading', { name: 'Your account' }).waitFor();
  assert.equal(await page.getByTestId('account-email').textContent(), email);

  // Turn on two-step verification.
  await page.getByRole('link', { name: 'Security' }).first().click();
  await page.getByRole('button', { name: 'Turn on two-step verification' }).click();
  const secret = await page.getByTestId('totp-secret').textContent();
  assert.match(secret, /^[A-Z2-7]{32}$/);
  await page.getByRole('img', { name: 'QR code for your authenticator app' }).waitFor();
  await shot(page, '3-totp-enrol');
  await page.getByLabel('Code from your authenticator app').fill(totp(secret));
  await page.getByRole('button', { name: 'Confirm and turn on' }).click();
  await page.getByTestId('recovery-codes').waitFor();
  const recoveryCodes = await page.getByTestId('recovery-codes').locator('li').allTextContents();
  assert.equal(recoveryCodes.length, 10);
  await shot(page, '4-recovery-codes');

  // Sign out, then in again: password, then the code (the next 30-second step, since the
  // code used to confirm cannot be used twice).
  await page.getByRole('button', { name: 'Sign out' }).first().click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.getByLabel('E-mail address').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByLabel('Code from your authenticator app').fill(totp(secret, Date.now() / 1000 + 30));
  await shot(page, '5-signin-code');
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByRole('heading', { name: 'Your cameras' }).waitFor();
  await page.getByRole('link', { name: 'Account' }).click();
  await page.getByRole('heading', { name: 'Your account' }).waitFor();

  // Change the language in the profile: the whole app follows, and it is kept.
  await page.getByLabel('Display name').fill('Robin');
  await page.getByRole('combobox', { name: 'Language' }).last().selectOption('zh-CN');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('heading', { name: '你的账户' }).waitFor();
  assert.equal(await page.getByTestId('signed-in-as').textContent(), 'Robin');
  await page.reload();
  await page.getByRole('heading', { name: '你的账户' }).waitFor();
  await shot(page, '6-profile-zh-CN');

  // Cancel: a clear warning, re-authentication, then signed out everywhere at once.
  await page.getByRole('link', { name: '注销账户' }).click();
  await page.getByText('注销立即生效且无法撤销').waitFor();
  await page.getByLabel('密码').fill(password);
  // The TOTP step was just used to sign in; a recovery code re-authenticates instead.
  await page.getByLabel('身份验证器应用中的验证码').fill(recoveryCodes[0]);
  await shot(page, '7-cancel');
  await page.getByRole('button', { name: '立即注销我的账户' }).click();
  await page.getByRole('heading', { name: '账户已注销' }).waitFor();
  await shot(page, '8-cancelled');

  // The account can no longer sign in.
  await page.goto(server.url + '/signin');
  await page.getByLabel('电子邮件地址').fill(email);
  await page.getByLabel('密码').fill(password);
  await page.getByRole('button', { name: '登录' }).last().click();
  await page.getByTestId('error').getByText('电子邮件地址或密码不正确。').waitFor();
  assert.deepEqual(problems, []);
  await page.close();
});
