/**
 * The standard gRPC health service (`grpc.health.v1.Health`, Check and Watch), written out
 * by hand: its two messages have one field each, so a service definition with wire-level
 * serializers avoids another npm dependency and a second .proto in proto/. Wire-compatible
 * with grpc_health_probe and every standard health client.
 */
import { BinaryReader, BinaryWriter } from '@bufbuild/protobuf/wire';
import { makeGenericClientConstructor, status as GrpcStatus } from '@grpc/grpc-js';
import type { ChannelCredentials, Client, ClientOptions, ClientReadableStream, ClientUnaryCall, Metadata, ServerUnaryCall, ServerWritableStream, ServiceDefinition, ServiceError, UntypedServiceImplementation, sendUnaryData } from '@grpc/grpc-js';

/** `HealthCheckResponse.ServingStatus` of the health protocol. */
export const ServingStatus = { UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 } as const;
/** One of {@link ServingStatus}. */
export type ServingStatus = (typeof ServingStatus)[keyof typeof ServingStatus];

/** `HealthCheckRequest`: the service name, '' for the whole server. */
export interface HealthCheckRequest { service: string }
/** `HealthCheckResponse`. */
export interface HealthCheckResponse { status: ServingStatus }

function decodeRequest(buf: Buffer): HealthCheckRequest {
  const r = new BinaryReader(buf);
  let service = '';
  while (r.pos < r.len) {
    const [field, wireType] = r.tag();
    if (field === 1) service = r.string();
    else r.skip(wireType);
  }
  return { service };
}
function encodeRequest(m: HealthCheckRequest): Buffer {
  const w = new BinaryWriter();
  if (m.service) w.uint32(10).string(m.service);
  return Buffer.from(w.finish());
}
function decodeResponse(buf: Buffer): HealthCheckResponse {
  const r = new BinaryReader(buf);
  let status: number = ServingStatus.UNKNOWN;
  while (r.pos < r.len) {
    const [field, wireType] = r.tag();
    if (field === 1) status = r.int32();
    else r.skip(wireType);
  }
  return { status: status as ServingStatus };
}
function encodeResponse(m: HealthCheckResponse): Buffer {
  const w = new BinaryWriter();
  if (m.status) w.uint32(8).int32(m.status);
  return Buffer.from(w.finish());
}

const serializers = { requestSerialize: encodeRequest, requestDeserialize: decodeRequest, responseSerialize: encodeResponse, responseDeserialize: decodeResponse };

/** Service definition of `grpc.health.v1.Health`. */
export const HealthService = {
  check: { path: '/grpc.health.v1.Health/Check', requestStream: false, responseStream: false, ...serializers },
  watch: { path: '/grpc.health.v1.Health/Watch', requestStream: false, responseStream: true, ...serializers },
} satisfies ServiceDefinition;

/** A client of the health service (for tests and probes). */
export interface HealthClient extends Client {
  check(req: HealthCheckRequest, cb: (err: ServiceError | null, res: HealthCheckResponse) => void): ClientUnaryCall;
  check(req: HealthCheckRequest, md: Metadata, cb: (err: ServiceError | null, res: HealthCheckResponse) => void): ClientUnaryCall;
  watch(req: HealthCheckRequest): ClientReadableStream<HealthCheckResponse>;
}
/** Constructor of {@link HealthClient}. */
export const HealthClient = makeGenericClientConstructor(HealthService, 'grpc.health.v1.Health') as unknown as {
  new (address: string, credentials: ChannelCredentials, options?: Partial<ClientOptions>): HealthClient;
};

/**
 * Serving status per service name, with the handlers that answer Check and Watch from it.
 * Check of an unregistered name answers NOT_FOUND; Watch of one streams SERVICE_UNKNOWN,
 * as the protocol says.
 */
export class HealthRegistry {
  readonly #statuses = new Map<string, ServingStatus>();
  readonly #watchers = new Set<{ service: string; call: ServerWritableStream<HealthCheckRequest, HealthCheckResponse> }>();

  /** Sets the status of `service` ('' = the whole server) and notifies its watchers. */
  set(service: string, status: ServingStatus): void {
    if (this.#statuses.get(service) === status) return;
    this.#statuses.set(service, status);
    for (const w of this.#watchers) if (w.service === service) w.call.write({ status });
  }

  /** Sets every registered service to `status` (NOT_SERVING while draining). */
  setAll(status: ServingStatus): void {
    for (const service of [...this.#statuses.keys()]) this.set(service, status);
  }

  /** Ends every Watch stream (before shutdown, so the server is not held open by them). */
  endWatches(): void {
    for (const w of this.#watchers) w.call.end();
    this.#watchers.clear();
  }

  /** The handlers to pass to `server.addService(HealthService, …)`. */
  implementation(): UntypedServiceImplementation {
    return {
      check: (call: ServerUnaryCall<HealthCheckRequest, HealthCheckResponse>, cb: sendUnaryData<HealthCheckResponse>) => {
        const status = this.#statuses.get(call.request.service);
        if (status === undefined) cb({ code: GrpcStatus.NOT_FOUND, details: `unknown service '${call.request.service}'` });
        else cb(null, { status });
      },
      watch: (call: ServerWritableStream<HealthCheckRequest, HealthCheckResponse>) => {
        const w = { service: call.request.service, call };
        this.#watchers.add(w);
        call.on('cancelled', () => this.#watchers.delete(w));
        call.write({ status: this.#statuses.get(w.service) ?? ServingStatus.SERVICE_UNKNOWN });
      },
    };
  }
}
