/**
 * Resolves a work unit's paraphraser name (docs/paraphrase.md) before any compute: a rule-based
 * paraphraser by name ('' = the first rule that accepts each text), an `http(s)://` endpoint, or
 * `cmd:NAME`, a command configured on the agent. An unknown name is BAD_SAMPLER.
 */
import { AgentError, AgentErrorCode } from '../../common/agent-errors.ts';
import { commandParaphraser, httpParaphraser } from './external.ts';
import type { ResolvedParaphraser } from './remask.ts';
import { RULE_PARAPHRASERS, ruleParaphraser } from './rules.ts';
import type { ParaphraseRemask } from '../../common/paraphrase/settings.ts';

/** The paraphraser `p` names; throws BAD_SAMPLER naming the alternatives when there is none. */
export function resolveParaphraser(p: ParaphraseRemask, commands: ReadonlyMap<string, readonly string[]>): ResolvedParaphraser {
  const name = p.paraphraser;
  if (name === '') return { rule: null, external: null };
  if (/^https?:\/\//.test(name)) return { rule: null, external: httpParaphraser(name) };
  if (name.startsWith('cmd:')) {
    const argv = commands.get(name.slice(4));
    if (!argv) {
      const known = [...commands.keys()].map((k) => `cmd:${k}`).join(', ') || 'none';
      throw new AgentError(AgentErrorCode.BAD_SAMPLER, `paraphraser ${name} is not configured on this agent (configured: ${known}; start the agent with --paraphrase-command NAME=COMMAND)`);
    }
    return { rule: null, external: commandParaphraser(name, argv) };
  }
  const rule = ruleParaphraser(name);
  if (!rule) throw new AgentError(AgentErrorCode.BAD_SAMPLER, `paraphraser '${name}' is not a rule-based paraphraser (${RULE_PARAPHRASERS.map((r) => r.name).join(', ')}), an http(s):// endpoint or cmd:NAME`);
  return { rule, external: null };
}
