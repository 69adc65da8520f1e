/**
 * `faithsweep sample --paraphrase every=K,remask=R[,...]`: the flag of paraphrase-remask sampling
 * (docs/paraphrase.md), parsed into the request's settings with BAD_ARGS naming the bad part.
 */
import type { ParaphraseRemask } from '../../generated/proto/faithsweep/v1/agent.ts';
import { parseParaphraseFlag, paraphraseToProto } from '../../common/paraphrase/settings.ts';
import { RULE_PARAPHRASERS } from '../paraphrase/rules.ts';
import { ErrorCode, FaithsweepError } from '../../common/errors.ts';

/** The `--help` lines of the flag. */
export const paraphraseHelp: readonly string[] = [
  '--paraphrase every=K,remask=R[,remask_by=random|low_confidence|span:A-B][,paraphraser=NAME][,timeout_ms=N]',
  '                      paraphrase-remask sampling (docs/paraphrase.md): after every K steps the committed',
  '                      text is paraphrased, re-laid into the region and a share R of it remasked; the',
  '                      film strip (--show-steps) shows each event. NAME: a rule-based paraphraser',
  `                      (${RULE_PARAPHRASERS.map((r) => r.name).join(', ')}; default: the first that accepts the text)`,
  '                      or an http(s):// endpoint',
];

/** `{ paraphrase }` for the request's sampler settings, or `{}` when the flag is absent. */
export function paraphraseFlag(raw: unknown): { paraphrase?: ParaphraseRemask } {
  if (raw === undefined) return {};
  try {
    return { paraphrase: paraphraseToProto(parseParaphraseFlag(String(raw))) };
  } catch (err) {
    throw new FaithsweepError(ErrorCode.BAD_ARGS, `--paraphrase: ${err instanceof Error ? err.message : String(err)}`, { hint: 'e.g. --paraphrase every=2,remask=0.3' });
  }
}
