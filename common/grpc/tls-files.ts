/**
 * Checks the PEM files given to `--tls-cert`, `--tls-key`, `--tls-ca` and `--tls-client-ca`
 * when a command starts, so that a wrong file is named as a bad flag at once, not found later
 * as a failed listen (agent) or as every call refused (a CA that holds no certificate).
 * Parsing is Node's own (node:crypto `X509Certificate`, node:tls `createSecureContext`).
 */
import { X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { ErrorCode, FaithsweepError } from '../errors.ts';

/** What a command was given, as read from the files. */
export interface TlsFiles {
  readonly cert?: Buffer;
  readonly key?: Buffer;
  /** A CA bundle (`--tls-ca` of the worker, `--tls-client-ca` of the agent). */
  readonly ca?: Buffer;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function bad(flag: string, path: string | undefined, what: string, cause: unknown): FaithsweepError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new FaithsweepError(ErrorCode.BAD_ARGS, `--${flag}${path ? ` ${path}` : ''} ${what}${reason ? ` (${reason})` : ''}`, {
    hint: 'give the PEM files made for this host: docs/deploy.md, "Agents across hosts"',
  });
}

/**
 * Throws BAD_ARGS naming the flag when `ca` holds no parseable certificate, `cert` is not a
 * certificate, `key` is not a private key, or the key does not belong to the certificate.
 * `flags` names the flags (and paths) as the command calls them.
 */
export function checkTlsFiles(files: TlsFiles, flags: { cert: string; key: string; ca: string }, paths: { cert?: string; key?: string; ca?: string } = {}): void {
  if (files.ca !== undefined) {
    const certs = files.ca.toString('utf8').match(PEM_CERT) ?? [];
    if (certs.length === 0) throw bad(flags.ca, paths.ca, 'holds no PEM certificate (-----BEGIN CERTIFICATE-----)', '');
    for (const c of certs) {
      try {
        new X509Certificate(c);
      } catch (err) {
        throw bad(flags.ca, paths.ca, 'holds a certificate that cannot be read', err);
      }
    }
  }
  if (files.cert !== undefined) {
    try {
      new X509Certificate(files.cert);
    } catch (err) {
      throw bad(flags.cert, paths.cert, 'is not a PEM certificate', err);
    }
  }
  if (files.key !== undefined) {
    try {
      createSecureContext({ key: files.key });
    } catch (err) {
      throw bad(flags.key, paths.key, 'is not a PEM private key', err);
    }
  }
  if (files.cert !== undefined && files.key !== undefined) {
    try {
      createSecureContext({ cert: files.cert, key: files.key });
    } catch (err) {
      throw bad(flags.key, paths.key, `does not hold the private key of --${flags.cert}`, err);
    }
  }
}
