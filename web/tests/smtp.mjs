// A small real SMTP server on 127.0.0.1:0 for browser tests: keeps every message.
import net from 'node:net';

export async function startSmtp() {
  const mails = [];
  const waiters = [];
  const server = net.createServer((socket) => {
    let buffer = '';
    let inData = false;
    let current = { to: [], data: '' };
    const say = (line) => socket.write(line + '\r\n');
    say('220 nightjar-browser-test ESMTP');
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      let end;
      while ((end = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (inData) {
          if (line === '.') {
            inData = false;
            mails.push(current);
            waiters.splice(0).forEach((w) => w());
            say('250 queued');
          } else {
            current.data += (line.startsWith('..') ? line.slice(1) : line) + '\n';
          }
          continue;
        }
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'MAIL') current = { to: [], data: '' };
        if (verb === 'RCPT') current.to.push(line.replace(/^RCPT TO:\s*<?([^>]*)>?.*$/i, '$1'));
        if (verb === 'DATA') {
          inData = true;
          say('354 go ahead');
        } else if (verb === 'QUIT') {
          say('221 bye');
          socket.end();
        } else {
          say('250 OK');
        }
      }
    });
    socket.on('error', () => {});
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `smtp://127.0.0.1:${server.address().port}`,
    // The newest mail to `to` whose body links to `path`; waits up to 10 s.
    async link(to, path) {
      const deadline = Date.now() + 10000;
      for (;;) {
        const found = mails
          .filter((m) => m.to.includes(to))
          .map((m) => m.data.match(new RegExp(`https?://\\S+${path}\\?token=[\\w-]+`)))
          .filter(Boolean)
          .pop();
        if (found) return found[0];
        if (Date.now() > deadline) throw new Error(`no mail to ${to} with ${path}`);
        await new Promise((r) => {
          waiters.push(r);
          setTimeout(r, 200);
        });
      }
    },
    close: () => new Promise((r) => server.close(r)),
  };
}

// RFC 6238 TOTP (HMAC-SHA1, 30 s, 6 digits) for the code an authenticator app would show.
import { createHmac } from 'node:crypto';

function base32(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of text.replace(/=+$/, '')) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

export function totp(secret, unixSeconds = Date.now() / 1000) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixSeconds / 30)));
  const mac = createHmac('sha1', base32(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  const code = (mac.readUInt32BE(offset) & 0x7fffffff) % 1000000;
  return String(code).padStart(6, '0');
}
