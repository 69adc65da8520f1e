/** `faithsweep dev up|down|status`: the embedded local stack. */
import { join } from 'node:path';
import { command, group } from '../../../common/cli/command.ts';
import type { CliContext } from '../../../common/cli/context.ts';
import type { ServiceStatus, LocalStack } from '../../dev/stack.ts';
import { redact } from '../../dev/stack.ts';
import { stackFromContext } from './stack-from-context.ts';

/** The command that starts the local stack (README "Quick start"). */
const DEV_UP = 'npx faithsweep dev up';

function printStatus(ctx: CliContext, stack: LocalStack, statuses: readonly ServiceStatus[]): void {
  if (ctx.json) {
    ctx.out(JSON.stringify({ endpoints: { ...stack.endpoints, databaseUrl: redact(stack.endpoints.databaseUrl) }, services: statuses, portNotes: stack.portNotes }, null, 2));
    return;
  }
  for (const s of statuses) {
    const h = s.health;
    const where = s.managed ? '' : ' (external)';
    const line =
      h.state === 'healthy' ? `${h.endpoint}  ${h.detail ?? ''}` : h.state === 'unhealthy' ? `${h.endpoint}  ${h.reason}` : h.endpoint;
    ctx.out(`${s.name.padEnd(9)} ${h.state.padEnd(9)} ${line}${where}`);
  }
}

/**
 * Says on stderr which ports of the local stack are not the defaults the README lists (another
 * program held them when the ports were chosen), so that nobody connects to the default port of
 * another copy's service. Prints nothing when every managed service has its default port.
 */
export function sayPortNotes(ctx: CliContext, stack: LocalStack): void {
  if (stack.portNotes.length === 0) return;
  ctx.err(`note: not every default port was free, so the local stack uses others (kept in ${join(ctx.paths.home, 'stack.json')}): ${stack.portNotes.join(', ')}`);
}

const up = command({
  name: 'up',
  summary: 'Start PostgreSQL, NATS (JetStream) and the Temporal dev server, and wait until they are healthy',
  details: [
    'State lives under .faithsweep/ (FAITHSWEEP_HOME). Idempotent: running services are kept.',
    'DATABASE_URL, NATS_URL or TEMPORAL_ADDRESS make that service external: it is checked, not started.',
  ],
  async run(ctx) {
    const stack = await stackFromContext(ctx);
    if (!ctx.json) ctx.err('starting the local stack (first start takes longer)…');
    const statuses = await stack.up();
    sayPortNotes(ctx, stack);
    printStatus(ctx, stack, statuses);
    if (!ctx.json) {
      const e = stack.endpoints;
      ctx.out('');
      if (e.temporalUiUrl) ctx.out(`Temporal UI:  ${e.temporalUiUrl}`);
      ctx.out(`psql:         psql "${redact(e.databaseUrl)}"`);
      ctx.out(`environment:  export DATABASE_URL="${redact(e.databaseUrl)}" NATS_URL="${e.natsUrl}" TEMPORAL_ADDRESS="${e.temporalAddress}"`);
    }
    return statuses.every((s) => s.health.state === 'healthy') ? 0 : 1;
  },
});

const down = command({
  name: 'down',
  summary: 'Stop the services that `dev up` started (by pid file); data is kept',
  async run(ctx) {
    const stack = await stackFromContext(ctx);
    const stopped = await stack.down();
    if (ctx.json) ctx.out(JSON.stringify(stopped));
    // Already down (a second `dev down`): one line, not the same "was not running" per service.
    else if (!stopped.some((s) => s.stopped)) ctx.out(`the local stack was not running: nothing to stop (${stopped.map((s) => s.name).join(', ')})`);
    else for (const s of stopped) ctx.out(`${s.name.padEnd(9)} ${s.stopped ? 'stopped' : 'was not running'}`);
  },
});

const status = command({
  name: 'status',
  summary: 'Show the health and endpoints of the local stack',
  async run(ctx) {
    const stack = await stackFromContext(ctx);
    const statuses = await stack.status();
    sayPortNotes(ctx, stack);
    printStatus(ctx, stack, statuses);
    if (!ctx.json && statuses.some((s) => s.managed && s.health.state === 'stopped')) ctx.out(`start it with: ${DEV_UP}`);
    return statuses.every((s) => s.health.state === 'healthy') ? 0 : 3;
  },
});

/** The `dev` command group. */
export const devCommands = group('dev', 'The embedded local stack (PostgreSQL, NATS, Temporal) under .faithsweep/', [up, down, status]);
