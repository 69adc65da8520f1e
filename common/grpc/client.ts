/**
 * A client of the agent that sends the shared token on every call. The token goes in
 * through an interceptor rather than call credentials because grpc-js refuses call
 * credentials on plaintext channels, and plaintext is the default on a trusted network.
 */
import { InterceptingCall, Metadata, credentials } from '@grpc/grpc-js';
import type { ChannelOptions, Interceptor } from '@grpc/grpc-js';
import { AgentClient } from '../../generated/proto/faithsweep/v1/agent.ts';
import type { DescribeResponse } from '../../generated/proto/faithsweep/v1/agent.ts';
import { AUTHORIZATION_METADATA_KEY, bearer } from './auth.ts';
import { CLIENT_KEEPALIVE } from './keepalive.ts';

/** Deadline of {@link describeAgent} when none is given: Describe does no work. */
export const DESCRIBE_TIMEOUT_MS = 5_000;

/** Options of {@link createAgentClient}. */
export interface AgentClientOptions {
  /** `host:port` of the agent. */
  readonly address: string;
  /** The shared token; omitted only to test that the agent refuses such calls. */
  readonly token?: string;
  /**
   * TLS: `true` trusts the system roots; `ca` trusts that PEM bundle instead;
   * `serverName` overrides the name checked against the certificate; `cert` and `key` (PEM)
   * are this client's certificate for agents that require mutual TLS. Plaintext when absent.
   */
  readonly tls?: true | { readonly ca?: Buffer; readonly serverName?: string; readonly cert?: Buffer; readonly key?: Buffer };
}

/** An interceptor that adds `authorization: Bearer <token>` to every call. */
export function bearerInterceptor(token: string): Interceptor {
  return (options, nextCall) =>
    new InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        metadata.set(AUTHORIZATION_METADATA_KEY, bearer(token));
        next(metadata, listener);
      },
    });
}

/** Creates an Agent client (with keepalive: keepalive.ts); close it with `client.close()`. */
export function createAgentClient(opts: AgentClientOptions): AgentClient {
  const tls = opts.tls === true ? {} : opts.tls;
  const channel = tls ? credentials.createSsl(tls.ca ?? null, tls.key ?? null, tls.cert ?? null) : credentials.createInsecure();
  const channelOptions: ChannelOptions = tls?.serverName ? { 'grpc.ssl_target_name_override': tls.serverName, 'grpc.default_authority': tls.serverName } : {};
  return new AgentClient(opts.address, channel, { ...CLIENT_KEEPALIVE, ...channelOptions, interceptors: opts.token === undefined ? [] : [bearerInterceptor(opts.token)] });
}

/** Calls Describe; rejects with the gRPC ServiceError on failure. */
export function describeAgent(client: AgentClient, timeoutMs = DESCRIBE_TIMEOUT_MS): Promise<DescribeResponse> {
  return new Promise((resolve, reject) => {
    client.describe({}, new Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => (err ? reject(err) : resolve(res)));
  });
}
