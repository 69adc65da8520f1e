/**
 * The agent's memory budget (--memory-budget): how many rows one batched forward pass may have
 * so that its outputs, copied to the host, stay within a number of bytes. Kept free of
 * onnxruntime imports so that option parsing can read the default cheaply.
 */

/**
 * Default memory budget of one forward pass's outputs on the host (--memory-budget), in MiB:
 * 2 GiB. Full logits of V = 151,936 at L = 400 are 243 MB a row, so this allows 8 rows; fused
 * top-k (K = 64) at the same L is 0.4 MB a row.
 */
export const DEFAULT_MEMORY_BUDGET_MIB = 2048;

/**
 * Host bytes per (row, position) of a forward pass's outputs: full logits are V float32; fused
 * top-k are K float32 log-probabilities + K int64 ids + the K int32 ids the agent converts them to.
 */
export function bytesPerPosition(fusedTopK: boolean, width: number): number {
  return fusedTopK ? width * (4 + 8 + 4) : width * 4;
}

/**
 * V-wide float32 tensors a graph holds at once inside onnxruntime's CPU arena at its peak (the
 * arena keeps its high-water mark): the LM head's MatMul output, the logits after its bias or
 * scaling, and — fused top-k — the log-softmax the top-k is taken from. An estimate measured on
 * the synthetic V = 151,936 model: counting one, a whole sweep under a 512 MiB budget grew the
 * agent by ~1.5 GiB (2.9 V-wide tensors at its batch); a full-logit run grew by ~4.3 V-wide
 * tensors (these 3 plus the output's copy on the host).
 */
export const CPU_INTERMEDIATES = 3;

/**
 * Host bytes per (row, position) of one forward pass: its outputs ({@link bytesPerPosition}) plus,
 * when the graph runs on the CPU provider, the {@link CPU_INTERMEDIATES} V-wide float32 tensors
 * the graph materialises inside onnxruntime, which then live in host memory too. On a GPU those are device memory, bounded by --max-batch, not
 * by this budget.
 */
export function hostBytesPerPosition(fusedTopK: boolean, width: number, vocabSize: number, onCpu: boolean): number {
  return bytesPerPosition(fusedTopK, width) + (onCpu ? CPU_INTERMEDIATES * (fusedTopK ? vocabSize : width) * 4 : 0);
}

/** Rows of length `seqLen` that fit `budgetBytes` at `perPosition` bytes each (0 when not even one does). */
export function rowsWithinBudget(budgetBytes: number, seqLen: number, perPosition: number): number {
  return Math.floor(budgetBytes / (seqLen * perPosition));
}

