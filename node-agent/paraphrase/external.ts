/**
 * External paraphrasers (docs/paraphrase.md "External paraphrasers"): a researcher's LLM behind
 * an HTTP endpoint, or any command, rewrites the text of a paraphrase-remask event.
 *
 * - HTTP: `POST` with `Content-Type: application/json` and body `{"text", "seed", "mask"}`; the
 *   reply is 2xx with either `text/plain` (the body is the rewrite) or JSON `{"text": "..."}`.
 * - Command (configured on the agent, `cmd:NAME`): the text on stdin, the rewrite on stdout
 *   (one trailing newline dropped), exit status 0; the seed and marker in the environment
 *   variables FAITHSWEEP_PARAPHRASE_SEED and FAITHSWEEP_PARAPHRASE_MASK.
 *
 * Every failure — timeout, connection refused, non-2xx status, non-zero exit, a reply that is not
 * the agreed shape, empty or over {@link MAX_REPLY_CHARS} — is an {@link AgentError} with code
 * PARAPHRASE_FAILED naming the paraphraser and what went wrong; never the input back unchanged.
 */
import { spawn } from 'node:child_process';
import { AgentError, AgentErrorCode } from '../../common/agent-errors.ts';

/**
 * Longest reply accepted, in characters: a rewrite of a response of at most a few thousand
 * tokens; anything far longer is a runaway generation or the wrong endpoint.
 */
export const MAX_REPLY_CHARS = 65_536;

/** One call's input. */
export interface ParaphraseCall {
  readonly text: string;
  readonly seed: number;
  /** The marker written at masked positions (keep it where positions should stay masked). */
  readonly mask: string;
  readonly timeoutMs: number;
  /** Aborts the call (the work unit was cancelled). */
  readonly signal: AbortSignal;
}

/** An external paraphraser. */
export interface ExternalParaphraser {
  /** As the spec names it: the URL, or `cmd:NAME`. */
  readonly name: string;
  paraphrase(call: ParaphraseCall): Promise<string>;
}

function failed(name: string, why: string, cause?: unknown): AgentError {
  return new AgentError(AgentErrorCode.PARAPHRASE_FAILED, `paraphraser ${name}: ${why}`, cause === undefined ? undefined : { cause });
}

/** Checks a reply: a non-empty string within {@link MAX_REPLY_CHARS}. */
function checkReply(name: string, reply: unknown): string {
  if (typeof reply !== 'string') throw failed(name, `replied ${JSON.stringify(reply)?.slice(0, 80)} where a text was expected (JSON {"text": "..."} or text/plain)`);
  if (reply.trim() === '') throw failed(name, 'replied an empty text (a paraphrase must not be empty; fix the paraphraser or remove it from the spec)');
  if (reply.length > MAX_REPLY_CHARS) throw failed(name, `replied ${reply.length} characters, more than ${MAX_REPLY_CHARS} (not a paraphrase of the text sent)`);
  return reply;
}

/** The paraphraser at an `http://` or `https://` endpoint. */
export function httpParaphraser(url: string): ExternalParaphraser {
  return {
    name: url,
    async paraphrase({ text, seed, mask, timeoutMs, signal }) {
      const timeout = AbortSignal.timeout(timeoutMs);
      let res: Response;
      let body: string;
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json, text/plain' },
          body: JSON.stringify({ text, seed, mask }),
          signal: AbortSignal.any([signal, timeout]),
        });
        body = await res.text();
      } catch (err) {
        if (signal.aborted) throw new AgentError(AgentErrorCode.CANCELLED, 'the work unit was cancelled during a paraphrase call', { cause: err });
        if (timeout.aborted) throw failed(url, `no reply within ${timeoutMs} ms (raise timeout_ms in the spec's paraphrase settings, or check the endpoint)`, err);
        // fetch wraps the reason ("fetch failed"): the innermost cause says what happened.
        let inner: unknown = err;
        while ((inner as { cause?: unknown }).cause !== undefined) inner = (inner as { cause?: unknown }).cause;
        const why = (inner as { code?: string }).code ?? (inner instanceof Error ? inner.message : String(inner));
        throw failed(url, `request failed: ${why} (is the endpoint up and reachable from the agent?)`, err);
      }
      if (!res.ok) throw failed(url, `HTTP ${res.status} ${res.statusText}: ${body.slice(0, 200)}`);
      const type = res.headers.get('content-type') ?? '';
      if (type.includes('application/json')) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(body);
        } catch {
          throw failed(url, `replied invalid JSON: ${body.slice(0, 80)}`);
        }
        return checkReply(url, (parsed as { text?: unknown } | null)?.text);
      }
      if (type.startsWith('text/plain') || type === '') return checkReply(url, body);
      throw failed(url, `replied Content-Type '${type}' (expected application/json or text/plain)`);
    },
  };
}

/** The command `argv` (configured on the agent as `cmd:NAME`). */
export function commandParaphraser(name: string, argv: readonly string[]): ExternalParaphraser {
  if (argv.length === 0) throw new AgentError(AgentErrorCode.BAD_REQUEST, `paraphrase command ${name} is empty`);
  return {
    name,
    paraphrase({ text, seed, mask, timeoutMs, signal }) {
      return new Promise<string>((resolve, reject) => {
        const child = spawn(argv[0]!, argv.slice(1), {
          stdio: ['pipe', 'pipe', 'pipe'],
          env: { ...process.env, FAITHSWEEP_PARAPHRASE_SEED: String(seed), FAITHSWEEP_PARAPHRASE_MASK: mask },
        });
        let out = '';
        let err = '';
        let done = false;
        const finish = (f: () => void) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          f();
        };
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          finish(() => reject(failed(name, `no reply within ${timeoutMs} ms (killed; raise timeout_ms or fix the command)`)));
        }, timeoutMs);
        const onAbort = () => {
          child.kill('SIGKILL');
          finish(() => reject(new AgentError(AgentErrorCode.CANCELLED, 'the work unit was cancelled during a paraphrase call')));
        };
        signal.addEventListener('abort', onAbort);
        child.stdout.setEncoding('utf8').on('data', (d: string) => {
          out += d;
          if (out.length > MAX_REPLY_CHARS + 1) {
            child.kill('SIGKILL');
            finish(() => reject(failed(name, `wrote more than ${MAX_REPLY_CHARS} characters (not a paraphrase of the text sent)`)));
          }
        });
        child.stderr.setEncoding('utf8').on('data', (d: string) => {
          err = (err + d).slice(-400);
        });
        child.on('error', (e) => finish(() => reject(failed(name, `could not start ${argv[0]}: ${e.message}`, e))));
        child.on('close', (code, sig) => {
          if (code !== 0) return finish(() => reject(failed(name, `exited with ${code === null ? `signal ${sig}` : `status ${code}`}${err.trim() ? `: ${err.trim().split('\n').pop()}` : ''}`)));
          finish(() => {
            try {
              resolve(checkReply(name, out.endsWith('\n') ? out.slice(0, -1) : out));
            } catch (e) {
              reject(e instanceof Error ? e : new Error(String(e)));
            }
          });
        });
        // A command that exits without reading stdin gets EPIPE here; its exit status decides.
        child.stdin.on('error', () => undefined);
        child.stdin.end(text);
      });
    },
  };
}
