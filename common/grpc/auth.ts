/**
 * Shared-token authentication of the agent's RPCs: every Agent call must carry
 * `authorization: Bearer <token>` in its metadata. The health service stays open so that
 * load balancers and orchestrators can probe an agent without holding the token.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Metadata } from '@grpc/grpc-js';
import { AgentError, AgentErrorCode } from '../agent-errors.ts';

/** Metadata key of the bearer token (gRPC lower-cases keys). */
export const AUTHORIZATION_METADATA_KEY = 'authorization';

/** Shortest token accepted: short shared secrets are guessable over a network. */
export const MIN_TOKEN_LENGTH = 16;

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * The one rule for a shared agent token, used by the agent and the worker alike: null when
 * `token` is acceptable, else what is wrong with it (at least {@link MIN_TOKEN_LENGTH}
 * characters; no whitespace, since it travels as `Bearer <token>`).
 */
export function tokenProblem(token: string): string | null {
  if (token.length < MIN_TOKEN_LENGTH) {
    return `the agent token must be at least ${MIN_TOKEN_LENGTH} characters (got ${token.length === 0 ? 'an empty one' : `${token.length}`})`;
  }
  if (/\s/.test(token)) return 'the agent token must not contain whitespace (it travels as "Bearer <token>")';
  return null;
}

/** The metadata value that carries `token`. */
export function bearer(token: string): string {
  return `Bearer ${token}`;
}

/**
 * Returns a checker for the shared token. The comparison is constant-time over sha256
 * digests, so neither the token's content nor its length leaks through timing.
 * Throws BAD_REQUEST when the configured token is shorter than {@link MIN_TOKEN_LENGTH}.
 */
export function tokenChecker(token: string): (metadata: Metadata) => void {
  if (token.length < MIN_TOKEN_LENGTH) {
    throw new AgentError(AgentErrorCode.BAD_REQUEST, `the agent token must be at least ${MIN_TOKEN_LENGTH} characters`);
  }
  const expected = createHash('sha256').update(token).digest();
  return (metadata) => {
    const raw = metadata.get(AUTHORIZATION_METADATA_KEY)[0];
    const value = typeof raw === 'string' ? raw : raw?.toString('utf8');
    const presented = value === undefined ? undefined : BEARER.exec(value)?.[1];
    if (presented === undefined) {
      throw new AgentError(AgentErrorCode.UNAUTHENTICATED, 'missing agent token: send metadata "authorization: Bearer <token>"');
    }
    if (!timingSafeEqual(createHash('sha256').update(presented).digest(), expected)) {
      throw new AgentError(AgentErrorCode.UNAUTHENTICATED, 'wrong agent token');
    }
  };
}
