/**
 * Errors of the shared text layer (tokenizers, chat templates). They are the orchestrator's
 * coded {@link FaithsweepError}s, so the CLI prints them as one line with a hint; the node
 * agent maps them to its own codes where it loads a model.
 */
import { ErrorCode, FaithsweepError } from '../errors.ts';

/** A tokenizer file is missing (MODEL_NOT_FOUND) or unreadable/unsupported (MODEL_INVALID). */
export function tokenizerError(kind: 'missing' | 'invalid', path: string, why: string, hint?: string): FaithsweepError {
  return new FaithsweepError(kind === 'missing' ? ErrorCode.MODEL_NOT_FOUND : ErrorCode.MODEL_INVALID, `${path}: ${why}`, hint ? { hint } : {});
}

/** A chat template that does not parse or raised while rendering; names the template's source file. */
export function templateError(source: string, why: string, cause?: unknown): FaithsweepError {
  return new FaithsweepError(ErrorCode.CHAT_TEMPLATE_FAILED, `chat template of ${source}: ${why}`, {
    hint: 'check the messages against what the template accepts (roles, system message), or fix chat_template in that file',
    cause,
  });
}
