/**
 * A loaded model under another name with fields of its card replaced: the same ONNX session
 * (real inference), another answer rule. Lets the free-text answer rule (`answer.regex`) run on
 * the character-level organisms until a free-text organism exists.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCard } from '../../common/model/card.ts';
import type { OnnxModel } from '../../node-agent/model/onnx-model.ts';

/** One model a table-driven test runs on: a directory under models/, optionally with card fields replaced. */
export interface ModelCase {
  /** Name the test's requests use (the directory's name unless `card` is given). */
  readonly name: string;
  /** Directory under the models folder. @default name */
  readonly dir?: string;
  /** Card fields to replace (`undefined` removes a field), validated as a card is at load. */
  readonly card?: Readonly<Record<string, unknown>>;
}

/** `base` with its model.json fields replaced by `patch` and renamed `name`. Throws MODEL_INVALID for a bad patch. */
export function withCard(base: OnnxModel, name: string, patch: Readonly<Record<string, unknown>>): OnnxModel {
  const json: Record<string, unknown> = { ...(JSON.parse(readFileSync(join(base.dir, 'model.json'), 'utf8')) as Record<string, unknown>), ...patch, name };
  for (const [k, v] of Object.entries(patch)) if (v === undefined) delete json[k];
  return { ...base, card: parseCard(json, `${base.dir}/model.json with ${JSON.stringify(patch)}`) };
}

/** The models of `cases` by name, built from `loaded` (the engine's models by directory name). */
export function caseModels(loaded: ReadonlyMap<string, OnnxModel>, cases: readonly ModelCase[]): Map<string, OnnxModel> {
  const out = new Map<string, OnnxModel>();
  for (const c of cases) {
    const base = loaded.get(c.dir ?? c.name);
    if (!base) throw new Error(`model directory '${c.dir ?? c.name}' is not loaded (loaded: ${[...loaded.keys()].join(', ')})`);
    out.set(c.name, c.card ? withCard(base, c.name, c.card) : base);
  }
  return out;
}
