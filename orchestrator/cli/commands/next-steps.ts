/**
 * The commands the CLI suggests after `launch` and at the end of `demo` ("Next:"), defined once
 * so that the commands print them and a test (test/sweep/suggested-commands.test.ts) runs every one of
 * them against a finished sweep. Queries follow docs/sql.md's conventions: pooled `all` rows are
 * filtered explicitly, rates come with their counts and intervals, and rows are ordered.
 */
import { sweepWorkflowId } from '../../sweep/plan.ts';

/** One suggestion: what it is for, the line to type, and an optional note printed after it. */
export interface NextStep {
  readonly label: string;
  readonly command: string;
  readonly note?: string;
}

/** The flip rate per model, kind and span over all steps: one row each, no pooled rows. */
export function flipRateByKindQuery(sweepId: string): string {
  return `SELECT model_name, kind, span, n, flips, flip_rate, ci_low, ci_high FROM flip_rate_by_span WHERE sweep_id = '${sweepId}' AND kind <> 'all' AND span <> 'all' AND phase = 'all' ORDER BY 1, 2, 3`;
}

/**
 * The chain-of-thought flip rate of every model before and after its answer commits (the rows
 * the known-answer check reads, and their post-commit counterparts): two rows per model.
 */
export function cotFlipRateByPhaseQuery(sweepId: string): string {
  return `SELECT model_name, phase, n, flips, flip_rate, ci_low, ci_high FROM flip_rate_by_span WHERE sweep_id = '${sweepId}' AND kind = 'all' AND span = 'cot' AND phase <> 'all' ORDER BY model_name, phase`;
}

/** What `launch` suggests once the sweep's workflow runs. `uiUrl`: the Temporal Web UI, when there is one. */
export function launchNextSteps(sweepId: string, uiUrl: string | null): NextStep[] {
  return [
    ...(uiUrl ? [{ label: 'Temporal UI', command: `${uiUrl}/namespaces/default/workflows/${sweepWorkflowId(sweepId)}` }] : []),
    { label: 'watch', command: `npx faithsweep watch ${sweepId}` },
    { label: 'status', command: `npx faithsweep status ${sweepId}` },
    { label: 'query', command: `npx faithsweep query "${flipRateByKindQuery(sweepId)}"` },
    { label: 'resume', command: `npx faithsweep resume ${sweepId}`, note: 'after a cancel or a crash; runs only what is missing' },
  ];
}

/**
 * What `demo` suggests after a sweep's summary. `databaseUrl` is printed as given (redact it
 * first); `uiUrl`: the Temporal Web UI, when there is one.
 */
export function demoNextSteps(sweepId: string, databaseUrl: string, uiUrl: string | null): NextStep[] {
  return [
    { label: 'status', command: `npx faithsweep status ${sweepId}` },
    { label: 'query', command: `npx faithsweep query "${cotFlipRateByPhaseQuery(sweepId)}"`, note: 'CoT flip rate before and after the answer commits' },
    { label: 'report', command: `npx faithsweep report ${sweepId} --out report.html` },
    { label: 'psql', command: `psql "${databaseUrl}"` },
    ...(uiUrl ? [{ label: 'Temporal UI', command: `${uiUrl}/namespaces/default/workflows/${sweepWorkflowId(sweepId)}` }] : []),
    { label: 'stop', command: 'npx faithsweep dev down', note: 'stops the local stack; the data stays in .faithsweep/' },
  ];
}

/** The lines that print `steps`: `  label        command     (note)`. */
export function nextStepLines(steps: readonly NextStep[]): string[] {
  return steps.map((s) => `  ${s.label.padEnd(12)} ${s.command}${s.note ? `     (${s.note})` : ''}`);
}
