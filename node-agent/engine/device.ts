/**
 * Execution providers of the agent (`--device cpu|cuda|webgpu`, `--device-id N`): which one a
 * session asks onnxruntime-node for, and — when it cannot be had — a DEVICE_UNAVAILABLE error
 * that names what is missing (the provider libraries of onnxruntime-node, a CUDA/cuDNN library
 * they link against, a WebGPU adapter). There is no silent CPU fallback: the caller falls back
 * only when the user asked for it (`--allow-cpu-fallback`). docs/gpu.md explains the install.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as ort from 'onnxruntime-node';
import { AgentError, AgentErrorCode } from '../../common/agent-errors.ts';
import type { Device } from '../model/onnx-model.ts';

/** Files onnxruntime-node loads for `--device cuda` on Linux (installed by ONNXRUNTIME_NODE_INSTALL=cuda12). */
export const CUDA_PROVIDER_FILES = ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'] as const;

/** What to do about a missing provider, in one line. */
const HINT = "see docs/gpu.md (ONNXRUNTIME_NODE_INSTALL=cuda12, CUDA 12 + cuDNN 9); or run with --device cpu, or --allow-cpu-fallback to accept the CPU";

/** The folder holding onnxruntime-node's native binding (and, once installed, its provider libraries). */
export function onnxruntimeBinDir(): string {
  const req = createRequire(import.meta.url);
  const pkg = dirname(req.resolve('onnxruntime-node/package.json'));
  return join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
}

/** The onnxruntime-node version in use. */
export function onnxruntimeVersion(): string {
  const req = createRequire(import.meta.url);
  return (req('onnxruntime-node/package.json') as { version: string }).version;
}

/** The execution-provider entry for a session on `device` (the CPU takes no device id). */
export function executionProvider(device: Device, deviceId: number): ort.InferenceSession.ExecutionProviderConfig {
  if (device === 'cpu') return 'cpu';
  if (device === 'cuda') return { name: 'cuda', deviceId };
  return { name: 'webgpu' } as ort.InferenceSession.ExecutionProviderConfig;
}

/**
 * Checks, without loading a model, what can be checked cheaply before a session is made: for
 * `cuda` on Linux, that onnxruntime-node's CUDA provider libraries are installed. Throws
 * DEVICE_UNAVAILABLE naming the missing files; returns silently otherwise (the session
 * creation then reports anything else, through {@link deviceError}).
 */
export function precheckDevice(device: Device): void {
  if (device !== 'cuda' || process.platform !== 'linux') return;
  const dir = onnxruntimeBinDir();
  const missing = CUDA_PROVIDER_FILES.filter((f) => !existsSync(join(dir, f)));
  if (missing.length > 0) {
    throw new AgentError(
      AgentErrorCode.DEVICE_UNAVAILABLE,
      `--device cuda: onnxruntime-node ${onnxruntimeVersion()} has no CUDA provider here (missing ${missing.join(', ')} in ${dir}); ${HINT}`,
    );
  }
}

/** Shared libraries `ldd` cannot resolve for `lib` (Linux only; [] elsewhere or when ldd is absent). */
export function unresolvedLibraries(lib: string): string[] {
  if (process.platform !== 'linux' || !existsSync(lib)) return [];
  const r = spawnSync('ldd', [lib], { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0 || typeof r.stdout !== 'string') return [];
  return r.stdout.split('\n').filter((l) => l.includes('not found')).map((l) => l.trim().split(/\s+/)[0]!).filter(Boolean);
}

/**
 * The DEVICE_UNAVAILABLE error for a session that could not be created on `device`: names the
 * device (and id), onnxruntime's first message line, and for CUDA the libraries the provider
 * links against that cannot be found (libcudart, libcublas, libcudnn, …).
 */
export function deviceError(device: Device, deviceId: number, cause: unknown): AgentError {
  const first = ((cause as Error)?.message ?? String(cause)).split('\n')[0]?.trim() || 'unavailable';
  let what = '';
  if (device === 'cuda') {
    const missing = unresolvedLibraries(join(onnxruntimeBinDir(), 'libonnxruntime_providers_cuda.so'));
    if (missing.length > 0) what = `; the CUDA provider needs ${missing.join(', ')}, which the loader cannot find (install CUDA 12 and cuDNN 9, or add them to LD_LIBRARY_PATH)`;
  } else if (device === 'webgpu' && /adapter/i.test(first)) {
    what = '; no WebGPU adapter (GPU with Vulkan/Metal/D3D12 drivers) is available';
  }
  const id = device === 'cuda' ? ` (device id ${deviceId})` : '';
  return new AgentError(AgentErrorCode.DEVICE_UNAVAILABLE, `--device ${device}${id} cannot be loaded: ${first}${what}; ${HINT}`, { cause });
}
