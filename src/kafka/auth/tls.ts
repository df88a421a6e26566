import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { TlsSettings } from '../../config/clusters.js';
import { KafkaSetupError } from './setup-error.js';

export type ReadFile = (path: string) => Buffer;

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function errorCode(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
}

/**
 * node's TLS options for one cluster, its PEM files read now, at start: a file that is
 * missing or not what its key says is a KafkaSetupError naming the cluster and the key,
 * not a handshake failure on the first read. Certificates are always verified
 * (rejectUnauthorized); `ca` replaces the system CAs, as operators of a private CA expect.
 */
export function tlsOptions(cluster: string, tls: TlsSettings, readFile: ReadFile = readFileSync): ConnectionOptions {
  const read = (key: 'ca' | 'cert' | 'key', path: string): Buffer => {
    try {
      return readFile(path);
    } catch (error) {
      throw new KafkaSetupError(cluster, `ssl.${key} ${path} cannot be read (${errorCode(error)})`, { cause: error });
    }
  };
  const options: ConnectionOptions = { rejectUnauthorized: true };
  if (tls.ca !== undefined) {
    const ca = read('ca', tls.ca);
    const certs = ca.toString('utf8').match(PEM_CERT) ?? [];
    if (certs.length === 0) throw new KafkaSetupError(cluster, `ssl.ca ${tls.ca} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
    for (const pem of certs) {
      try {
        new X509Certificate(pem);
      } catch (error) {
        throw new KafkaSetupError(cluster, `ssl.ca ${tls.ca} holds a certificate that cannot be parsed (${errorCode(error)})`, { cause: error });
      }
    }
    options.ca = certs;
  }
  if (tls.cert !== undefined && tls.key !== undefined) {
    const cert = read('cert', tls.cert);
    const key = read('key', tls.key);
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(cert);
    } catch (error) {
      throw new KafkaSetupError(cluster, `ssl.cert ${tls.cert} is not a PEM certificate (${errorCode(error)})`, { cause: error });
    }
    const privateKey = parseKey(cluster, tls.key, key, tls.passphrase);
    // A key for another certificate fails the handshake with an opaque alert; say it here.
    if (!certificate.checkPrivateKey(privateKey)) throw new KafkaSetupError(cluster, `ssl.key ${tls.key} is not the key of ssl.cert ${tls.cert}`);
    options.cert = cert;
    options.key = key;
    if (tls.passphrase !== undefined) options.passphrase = tls.passphrase;
  }
  if (tls.servername !== undefined) options.servername = tls.servername;
  return options;
}

// PKCS#8 and the older OpenSSL form of an encrypted key; node's own error for a missing
// passphrase differs between versions, so the file says it instead.
const ENCRYPTED_PEM = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/;

function parseKey(cluster: string, path: string, pem: Buffer, passphrase: string | undefined): KeyObject {
  if (passphrase === undefined && ENCRYPTED_PEM.test(pem.toString('utf8'))) {
    throw new KafkaSetupError(cluster, `ssl.key ${path} is encrypted: name the variable holding its passphrase in ssl.passphraseEnv`);
  }
  try {
    return createPrivateKey(passphrase === undefined ? { key: pem, format: 'pem' } : { key: pem, format: 'pem', passphrase });
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ERR_MISSING_PASSPHRASE') throw new KafkaSetupError(cluster, `ssl.key ${path} is encrypted: name the variable holding its passphrase in ssl.passphraseEnv`, { cause: error });
    if (passphrase !== undefined && /decrypt|bad|passphrase/i.test(`${code} ${(error as Error).message}`)) {
      throw new KafkaSetupError(cluster, `ssl.key ${path} cannot be decrypted with the passphrase from ssl.passphraseEnv`, { cause: error });
    }
    throw new KafkaSetupError(cluster, `ssl.key ${path} is not a PEM private key (${code})`, { cause: error });
  }
}
