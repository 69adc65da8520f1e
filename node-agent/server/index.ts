/** The node agent's gRPC server, its client, and the health service. */
export { createAgentServer, isLoopback, ABORT_SETTLE_MS, SHUTDOWN_TIMEOUT_MS, HEALTH_SERVICES } from './agent-server.ts';
export type { AgentServerOptions, AgentGrpcServer, DrainReport } from './agent-server.ts';
export { createAgentClient, bearerInterceptor, describeAgent, DESCRIBE_TIMEOUT_MS } from '../../common/grpc/client.ts';
export type { AgentClientOptions } from '../../common/grpc/client.ts';
export { AUTHORIZATION_METADATA_KEY, MIN_TOKEN_LENGTH, bearer, tokenChecker, tokenProblem } from '../../common/grpc/auth.ts';
export { ERROR_CODE_METADATA_KEY, INTERNAL_ERROR_CODE, errorCodeOf, grpcStatusFor, toServiceError, toStatus } from '../../common/grpc/status.ts';
export { HealthClient, HealthRegistry, HealthService, ServingStatus } from './health.ts';
export type { HealthCheckRequest, HealthCheckResponse } from './health.ts';
export { GroupSlots, DRAIN_ABORT_REASON } from './group-slots.ts';
export { CLIENT_KEEPALIVE, SERVER_KEEPALIVE, KEEPALIVE_TIME_MS, KEEPALIVE_TIMEOUT_MS } from '../../common/grpc/keepalive.ts';
export type { GroupSlot } from './group-slots.ts';
