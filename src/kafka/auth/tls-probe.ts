import { connect } from 'node:tls';

/**
 * Whether `host:port` completes a TLS handshake, whoever signed its certificate: only to tell
 * the user that a listener lagbot spoke plaintext to expects TLS. Nothing is sent after it.
 */
export function speaksTls(address: string, timeoutMs: number): Promise<boolean> {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i);
  const port = Number(address.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port)) return Promise.resolve(false);
  return new Promise((resolve) => {
    // Verification off on purpose: the question is whether it speaks TLS, not whether to trust it.
    const socket = connect({ host, port, rejectUnauthorized: false, ...(/^[\d.]+$|:/.test(host) ? {} : { servername: host }) });
    const done = (answer: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('secureConnect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}
