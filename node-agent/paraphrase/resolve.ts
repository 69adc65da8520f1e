/**
 * Resolves a work unit's paraphraser name (docs/paraphrase.md) before any compute: a rule-based
 * paraphraser by name ('' = the first rule that accepts each text), an `http(s)://` endpoint, or
 * `cmd:NAME`, a command configured on the agent. An unknown name is BAD_SAMPLER.
 */
import { AgentError, AgentErrorCode } from '../errors.ts';
import { commandParaphraser, httpParaphraser } from './external.ts';
import type { ResolvedParaphraser } from './remask.ts';
import { RULE_PARAPHRASERS, ruleParaphraser } from './rules.ts';
import type { ParaphraseRemask } from './settings.ts';

/**
 * The problem with paraphraser name `name` that can be seen without an agent (a rule name that
 * does not exist, a malformed cmd:NAME), or null; `faithsweep plan` checks it.
 */
export function paraphraserNameProblem(name: string): string | null {
  if (name === '' || /^https?:\/\//.test(name) || /^cmd:[\w.-]+$/.test(name) || ruleParaphraser(name)) return null;
  return `paraphrase.paraphraser '${name}' is not a rule-based paraphraser (${RULE_PARAPHRASERS.map((r) => r.name).join(', ')}), an http(s):// endpoint or cmd:NAME`;
}

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
