// A test SMTP server for the browser tests: accepts every message on
// 127.0.0.1 (RFC 5321's minimal command set: EHLO/HELO, MAIL, RCPT, DATA,
// RSET, NOOP, QUIT; no STARTTLS, no AUTH) and keeps what it received, so a
// test can read the invitation mail Marketgate sent and follow its link.
import { createServer } from 'node:net';

/** Starts the server; returns { addr, messages, waitFor(pred, ms), close() }. */
export async function startSMTP() {
  const messages = [];
  const waiters = [];
  const server = createServer((sock) => {
    sock.setEncoding('utf8');
    let buf = '';
    let data = null; // lines of DATA while receiving it
    let env = { from: '', to: [] };
    const reply = (s) => sock.write(s + '\r\n');
    reply('220 marketgate-e2e ESMTP ready');
    sock.on('data', (chunk) => {
      buf += chunk;
      let i;
      while ((i = buf.indexOf('\r\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (data !== null) {
          if (line === '.') {
            const raw = data.join('\r\n');
            const msg = { ...env, raw, body: decodeBody(raw) };
            messages.push(msg);
            for (const w of waiters.splice(0)) w();
            data = null;
            env = { from: '', to: [] };
            reply('250 2.0.0 queued');
          } else {
            data.push(line.startsWith('..') ? line.slice(1) : line); // dot-stuffing, RFC 5321 §4.5.2
          }
          continue;
        }
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') reply('250-marketgate-e2e\r\n250 8BITMIME');
        else if (verb === 'HELO') reply('250 marketgate-e2e');
        else if (verb === 'MAIL') (env.from = line.slice(10).replace(/[<>]/g, '').trim()), reply('250 2.1.0 ok');
        else if (verb === 'RCPT') env.to.push(line.slice(8).replace(/[<>]/g, '').trim()), reply('250 2.1.5 ok');
        else if (verb === 'DATA') (data = []), reply('354 end with <CRLF>.<CRLF>');
        else if (verb === 'RSET') (env = { from: '', to: [] }), reply('250 ok');
        else if (verb === 'NOOP') reply('250 ok');
        else if (verb === 'QUIT') reply('221 bye'), sock.end();
        else reply('502 5.5.2 command not implemented');
      }
    });
    sock.on('error', () => {});
  });
  await new Promise((res) => server.listen(0, '127.0.0.1', res));
  const { port } = server.address();
  return {
    addr: `127.0.0.1:${port}`,
    messages,
    /** Waits until a received message matches pred (default 20 s). */
    async waitFor(pred, ms = 20_000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const m = messages.find(pred);
        if (m) return m;
        if (Date.now() > deadline) throw new Error(`no such mail within ${ms} ms; received: ${messages.map((x) => x.to.join(',')).join(' | ')}`);
        await new Promise((res) => {
          waiters.push(res);
          setTimeout(res, 250);
        });
      }
    },
    close: () => new Promise((res) => server.close(res)),
  };
}

// decodeBody undoes the transfer encodings a mail may use (quoted-printable,
// base64) well enough to find a link in it.
function decodeBody(raw) {
  const split = raw.indexOf('\r\n\r\n');
  const head = split >= 0 ? raw.slice(0, split) : '';
  let body = split >= 0 ? raw.slice(split + 4) : raw;
  if (/content-transfer-encoding:\s*quoted-printable/i.test(head) || /=\r\n/.test(body)) {
    body = body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, h) => String.fromCharCode(parseInt(h, 16)));
    body = Buffer.from(body, 'latin1').toString('utf8');
  } else if (/content-transfer-encoding:\s*base64/i.test(head)) {
    body = Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  }
  return body;
}
