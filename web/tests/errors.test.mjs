// Every error code the API can return has both translations (#13): the codes are read from
// the server's source (every literal handed to error_response, and the account errors'
// mapping), not listed by hand, so a new code without its strings fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

async function sources(dir) {
  const out = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sources(p)));
    else if (/\.(cc|h)$/.test(entry.name) && !entry.name.endsWith('_test.cc')) out.push(p);
  }
  return out;
}

test('every error code the server can send is translated in both languages', async () => {
  const codes = new Set();
  for (const file of await sources(path.join(root, 'src'))) {
    const text = await readFile(file, 'utf8');
    for (const m of text.matchAll(/error_response\(\s*\d+,\s*"([a-z_]+)"/g)) codes.add(m[1]);
    if (file.endsWith(path.join('api', 'guard.cc'))) {
      for (const m of text.matchAll(/code = "([a-z_]+)";/g)) codes.add(m[1]);
    }
  }
  assert.ok(codes.size > 30, `found only ${codes.size} codes: the scan is broken`);
  for (const lang of ['en', 'zh-CN']) {
    const catalogue = JSON.parse(await readFile(path.join(root, 'web', 'src', 'i18n', `${lang}.json`), 'utf8'));
    const missing = [...codes].filter((c) => !(`error.${c}` in catalogue)).sort();
    assert.deepEqual(missing, [], `${lang} has no error.<code> for these`);
    assert.ok(catalogue['error.unknown']?.includes('{code}'), `${lang} has a general error naming the code`);
  }
});
