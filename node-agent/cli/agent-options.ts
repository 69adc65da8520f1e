/**
 * The `faithsweep agent` flags, parsed and validated once at the edge into a frozen
 * {@link AgentOptions}. Every problem is a BAD_ARGS error naming the flag, raised before
 * anything is loaded, bound or registered.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { ErrorCode, FaithsweepError } from '../../common/errors.ts';
import { parseIntFlag } from '../../common/cli/int-flag.ts';
import { DEFAULT_MEMORY_BUDGET_MIB } from '../engine/budget.ts';
import type { Device } from '../model/onnx-model.ts';
import { DEFAULT_AGENTS_BUCKET, DEFAULT_REGISTRY_TTL_MS, isValidAgentId, isValidBucketName } from '../registry/index.ts';
import { isLoopback, tokenProblem } from '../server/index.ts';
import { checkTlsFiles } from '../../common/grpc/tls-files.ts';

/** gRPC port when --port is not given (the customary gRPC port). */
export const DEFAULT_AGENT_PORT = 50051;
/** Interface bound when --host is not given: loopback, so nothing is exposed by accident. */
export const DEFAULT_AGENT_HOST = '127.0.0.1';
/** Groups run at once by default: batching happens inside a group, so one keeps a device busy. */
export const DEFAULT_MAX_GROUPS = 1;
/** Grace period for in-flight groups on SIGTERM/SIGINT before they are cancelled. */
export const DEFAULT_GRACE_MS = 10_000;
/** Shortest registry TTL accepted: the refresh (TTL/3) must stay well above NATS round trips. */
export const MIN_REGISTRY_TTL_MS = 1_000;
/** Execution providers --device accepts. */
export const DEVICES: readonly Device[] = ['cpu', 'cuda', 'webgpu'];

/** Validated configuration of one agent process. */
export interface AgentOptions {
  /** A model directory or a folder of them. */
  readonly modelsDir: string;
  readonly host: string;
  /** 0 = any free port. */
  readonly port: number;
  /** `host:port` published in the registry; derived from host and the bound port when absent. */
  readonly advertise: string | undefined;
  /** NATS URL; the local stack's when absent (resolved by the command). */
  readonly natsUrl: string | undefined;
  readonly device: Device;
  /** GPU ordinal for --device cuda (onnxruntime's device_id); one agent per GPU. */
  readonly deviceId: number;
  /** Accept the CPU when --device cannot be loaded (else DEVICE_UNAVAILABLE). */
  readonly allowCpuFallback: boolean;
  /** Host bytes one forward pass's outputs may take (--memory-budget MiB). */
  readonly memoryBudgetBytes: number;
  /** onnxruntime intra-op threads; 0 = onnxruntime's default. */
  readonly threads: number;
  /** Branches per forward pass; the engine's default when absent. */
  readonly maxBatch: number | undefined;
  readonly maxGroups: number;
  readonly token: string;
  /** TLS (with `clientCa`: mutual TLS, clients must present a certificate it signed). */
  readonly tls: { readonly cert: Buffer; readonly key: Buffer; readonly clientCa?: Buffer } | undefined;
  /** --insecure-plaintext: serve plaintext on a non-loopback address anyway. */
  readonly insecurePlaintext: boolean;
  /** Registry key (--agent-id, else {@link generateAgentId}). */
  readonly agentId: string;
  readonly bucket: string;
  readonly registryTtlMs: number;
  readonly graceMs: number;
  /** External paraphrasers a spec may name as `cmd:NAME` (--paraphrase-command NAME=COMMAND): argv by name. */
  readonly paraphraseCommands: ReadonlyMap<string, readonly string[]>;
}

/** Raw inputs: parsed flag values, and the token from the environment (read by the CLI entry). */
export interface RawAgentInput {
  readonly values: Readonly<Record<string, unknown>>;
  readonly envToken: string | undefined;
  readonly defaultModelsDir: string;
}

const bad = (flag: string, why: string, hint = "run 'faithsweep agent --help'") => new FaithsweepError(ErrorCode.BAD_ARGS, `--${flag} ${why}`, { hint });

function str(values: RawAgentInput['values'], flag: string): string | undefined {
  const v = values[flag];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.trim() === '') throw bad(flag, 'needs a value');
  return v.trim();
}

function int(values: RawAgentInput['values'], flag: string, min: number, max: number, fallback: number): number {
  return parseIntFlag(flag, str(values, flag), { min, max, hint: "run 'faithsweep agent --help'" }) ?? fallback;
}

/** The agent's TLS files, read and checked (a wrong file is a bad flag now, not a failed listen later). */
function tlsFiles(certPath: string, keyPath: string, clientCaPath: string | undefined): Readonly<{ cert: Buffer; key: Buffer; clientCa?: Buffer }> {
  const cert = readFlagFile('tls-cert', certPath);
  const key = readFlagFile('tls-key', keyPath);
  const clientCa = clientCaPath !== undefined ? readFlagFile('tls-client-ca', clientCaPath) : undefined;
  checkTlsFiles({ cert, key, ...(clientCa ? { ca: clientCa } : {}) }, { cert: 'tls-cert', key: 'tls-key', ca: 'tls-client-ca' }, { cert: certPath, key: keyPath, ...(clientCaPath ? { ca: clientCaPath } : {}) });
  return Object.freeze({ cert, key, ...(clientCa ? { clientCa } : {}) });
}

function readFlagFile(flag: string, path: string): Buffer {
  const p = resolve(path);
  if (!existsSync(p)) throw bad(flag, `file ${p} does not exist`);
  if (!statSync(p).isFile()) throw bad(flag, `${p} is ${statSync(p).isDirectory() ? 'a directory' : 'not a regular file'}, not a file`);
  try {
    return readFileSync(p);
  } catch (err) {
    throw bad(flag, `file ${p} cannot be read: ${(err as Error).message}`);
  }
}

function token(values: RawAgentInput['values'], envToken: string | undefined): string {
  const file = str(values, 'token-file');
  const t = file !== undefined ? readFlagFile('token-file', file).toString('utf8').trim() : envToken?.trim();
  if (file !== undefined && !t) throw bad('token-file', `file ${resolve(file)} is empty: it must hold the workers' shared token`);
  if (!t) {
    throw bad('token-file', 'is required (or set FAITHSWEEP_AGENT_TOKEN): every Agent RPC needs the shared token',
      "give the workers' token: on the local stack it is .faithsweep/agent-token (written by `faithsweep worker`, `dev up` and the demo), so --token-file .faithsweep/agent-token");
  }
  const problem = tokenProblem(t);
  if (problem !== null) throw bad('token-file', problem);
  return t;
}

/** A generated agent id: the short host name plus random hex, as a valid KV key. */
export function generateAgentId(): string {
  const host = hostname().split('.')[0]?.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 48) || 'agent';
  return `${host}-${randomBytes(4).toString('hex')}`;
}

/** `--paraphrase-command NAME=COMMAND` (repeatable): the argv of each named command (split on whitespace, no shell). */
function paraphraseCommands(raw: unknown): ReadonlyMap<string, readonly string[]> {
  const out = new Map<string, readonly string[]>();
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  for (const item of list) {
    const m = /^([\w.-]+)=(.+)$/.exec(String(item).trim());
    if (!m) throw bad('paraphrase-command', `must be NAME=COMMAND with NAME of letters, digits, '_', '.', '-' (got '${String(item)}')`);
    if (out.has(m[1]!)) throw bad('paraphrase-command', `names ${m[1]} twice`);
    out.set(m[1]!, m[2]!.trim().split(/\s+/));
  }
  return out;
}

/** Validates the agent's flags; throws BAD_ARGS naming the first bad flag. */
export function parseAgentOptions(input: RawAgentInput): AgentOptions {
  const { values } = input;
  const modelsDir = resolve(str(values, 'models') ?? input.defaultModelsDir);
  if (!existsSync(modelsDir) || !statSync(modelsDir).isDirectory()) throw bad('models', `folder ${modelsDir} does not exist`);
  const device = (str(values, 'device') ?? 'cpu') as Device;
  if (!DEVICES.includes(device)) throw bad('device', `must be one of ${DEVICES.join(', ')} (got '${device}')`);
  if (values['device-id'] !== undefined && device !== 'cuda') throw bad('device-id', `applies to --device cuda only (got --device ${device})`);
  const certPath = str(values, 'tls-cert');
  const keyPath = str(values, 'tls-key');
  if ((certPath === undefined) !== (keyPath === undefined)) throw bad(certPath === undefined ? 'tls-cert' : 'tls-key', 'is required when the other TLS flag is given');
  const clientCaPath = str(values, 'tls-client-ca');
  if (clientCaPath !== undefined && certPath === undefined) throw bad('tls-client-ca', 'needs --tls-cert and --tls-key (mutual TLS is TLS with client certificates)');
  const host = str(values, 'host') ?? DEFAULT_AGENT_HOST;
  const insecurePlaintext = values['insecure-plaintext'] === true;
  if (!isLoopback(host) && certPath === undefined && !insecurePlaintext) {
    throw bad('host', `${host} is not a loopback address and no TLS is given: the agent token would cross the network in clear text. ` +
      'Give --tls-cert and --tls-key (and --tls-client-ca for mutual TLS; README "Agents across hosts"), or --insecure-plaintext on a network you trust');
  }
  const advertise = str(values, 'advertise');
  if (advertise !== undefined && !/^[^\s:]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(advertise)) throw bad('advertise', `must be HOST:PORT (got '${advertise}')`);
  const agentId = str(values, 'agent-id');
  if (agentId !== undefined && !isValidAgentId(agentId)) throw bad('agent-id', `'${agentId}' is not a valid NATS KV key: use letters, digits, '_', '-', '=' and inner dots`);
  const bucket = str(values, 'bucket') ?? DEFAULT_AGENTS_BUCKET;
  if (!isValidBucketName(bucket)) throw bad('bucket', `'${bucket}' is not a valid KV bucket name: use letters, digits, '_' and '-'`);
  return Object.freeze({
    modelsDir,
    host,
    port: int(values, 'port', 0, 65_535, DEFAULT_AGENT_PORT),
    advertise,
    natsUrl: str(values, 'nats'),
    device,
    deviceId: int(values, 'device-id', 0, 1023, 0),
    allowCpuFallback: values['allow-cpu-fallback'] === true,
    memoryBudgetBytes: int(values, 'memory-budget', 1, 16 * 1024 * 1024, DEFAULT_MEMORY_BUDGET_MIB) * 2 ** 20,
    threads: int(values, 'threads', 0, 1024, 0),
    maxBatch: str(values, 'max-batch') === undefined ? undefined : int(values, 'max-batch', 1, 65_536, 0),
    maxGroups: int(values, 'max-groups', 1, 1024, DEFAULT_MAX_GROUPS),
    token: token(values, input.envToken),
    tls: certPath !== undefined && keyPath !== undefined ? tlsFiles(certPath, keyPath, clientCaPath) : undefined,
    insecurePlaintext,
    agentId: agentId ?? generateAgentId(),
    bucket,
    registryTtlMs: int(values, 'registry-ttl-ms', MIN_REGISTRY_TTL_MS, 3_600_000, DEFAULT_REGISTRY_TTL_MS),
    graceMs: int(values, 'grace-ms', 0, 3_600_000, DEFAULT_GRACE_MS),
    paraphraseCommands: paraphraseCommands(values['paraphrase-command']),
  });
}
