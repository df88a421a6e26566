import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { storeName, storeTarget } from '../config/alerting.js';
import { loadConfig, type LagbotConfig } from '../config/config.js';
import { closestNames } from '../core/suggest.js';
import type { Incident } from '../core/protocol.js';
import { openStore } from '../store/open.js';
import type { LagbotStore } from '../store/store.js';
import type { IncidentFilter } from '../store/records.js';
import { incidentJson, incidentListText } from '../views/incident-list.js';
import { postmortemMarkdown } from '../views/postmortem.js';

export interface IncidentIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
}

export const CLI_INCIDENT_USAGE = `usage: lagbot incident list [--json] [--all | --since AGE] [--status open|resolved] [--cluster NAME] [--group GROUP]
       lagbot incident report INCIDENT_ID

  lagbot incident list       open incidents and those resolved in the last 7 days, newest first
      --since AGE            resolved since AGE ago (30m, 12h, 7d) or since a date (2026-11-27)
      --all                  every incident the store holds
      --json                 the same as a JSON array (see README: a stable interface)
  lagbot incident report ID  the incident's postmortem draft, in Markdown

  Both read the SQLite store (store.path in LAGBOT_CONFIG); neither talks to Kafka or Slack.`;

const DAY_MS = 86_400_000;
const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: DAY_MS, w: 7 * DAY_MS };

/** `--since`: an age (`12h`) back from now, or a date or time (`2026-11-27`, ISO 8601). */
function sinceOf(text: string, now: number, usageError: (m: string) => Error): number {
  const age = /^(\d+)\s*([mhdw])$/.exec(text.trim());
  if (age) return now - Number(age[1]) * (UNIT_MS[age[2] as string] as number);
  const at = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(at)) throw usageError(`--since takes an age such as 30m, 12h or 7d, or a date such as 2026-11-27; got "${text}"`);
  return at;
}

function filterOf(args: string[], now: number, usageError: (m: string) => Error): { filter: IncidentFilter; json: boolean } {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        json: { type: 'boolean', default: false },
        all: { type: 'boolean', default: false },
        since: { type: 'string' },
        status: { type: 'string' },
        cluster: { type: 'string' },
        group: { type: 'string' },
      },
    }));
  } catch (error) {
    throw usageError((error as Error).message);
  }
  if (values.all && values.since !== undefined) throw usageError('--all and --since do not go together: --all lists every incident');
  if (values.status !== undefined && values.status !== 'open' && values.status !== 'resolved') {
    throw usageError(`--status is open or resolved, got "${values.status}"`);
  }
  for (const key of ['cluster', 'group'] as const) {
    if (values[key] !== undefined && values[key].trim() === '') throw usageError(`--${key} needs a name`);
  }
  const since = values.all ? undefined : values.since === undefined ? now - 7 * DAY_MS : sinceOf(values.since, now, usageError);
  const filter: IncidentFilter = {
    ...(since === undefined ? {} : { since }),
    ...(values.status === undefined ? {} : { status: values.status as Incident['status'] }),
    ...(values.cluster === undefined ? {} : { cluster: values.cluster }),
    ...(values.group === undefined ? {} : { group: values.group }),
  };
  return { filter, json: values.json };
}

/**
 * The store has no such thing: no store file where the configuration says, or no such
 * incident in it. Bad input (exit 2), said in one line without the usage text.
 */
export class IncidentLookupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IncidentLookupError';
  }
}

/** The configured store, never created here: a missing file means a wrong path or a lagbot that never ran there. */
async function openConfiguredStore(io: IncidentIo): Promise<{ store: LagbotStore; config: LagbotConfig }> {
  const config = await loadConfig(io.env);
  const target = storeTarget(config.store);
  if (target.kind === 'sqlite' && (target.path === ':memory:' || !existsSync(target.path))) {
    const where = io.env.LAGBOT_CONFIG ? `store.path in ${io.env.LAGBOT_CONFIG}` : 'the default store.path, in the working directory';
    throw new IncidentLookupError(`no lagbot store at ${target.path} (${where}): run this where lagbot start keeps its store, or set store.path`);
  }
  return { store: await openStore(target), config };
}

/** `lagbot incident list|report`: what the store knows of incidents, for the terminal. */
export async function runIncident(args: string[], io: IncidentIo, usageError: (m: string) => Error, now: () => number = Date.now): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'list': {
      const { filter, json } = filterOf(rest, now(), usageError);
      const { store } = await openConfiguredStore(io);
      try {
        const incidents = await store.listIncidents(filter);
        const at = now();
        io.stdout(json ? JSON.stringify(incidents.map((i) => incidentJson(i, at)), null, 2) : incidentListText(incidents, at));
        return 0;
      } finally {
        await store.close();
      }
    }
    case 'report': {
      if (rest.length !== 1 || rest[0] === undefined || rest[0].startsWith('-')) throw usageError('lagbot incident report takes one INCIDENT_ID (lagbot incident list shows them)');
      const id = rest[0];
      const { store, config } = await openConfiguredStore(io);
      try {
        const incident = await store.incident(id);
        if (!incident) {
          const close = closestNames(id, await store.incidentIds());
          throw new IncidentLookupError(`no incident "${id}" in ${storeName(storeTarget(config.store))}${close.length > 0 ? ` (did you mean ${close.join(', ')}?)` : '; lagbot incident list --all shows them'}`);
        }
        io.stdout(postmortemMarkdown(incident, await store.timeline(id), { timeZone: config.postmortem.timeZone, now: now() }));
        return 0;
      } finally {
        await store.close();
      }
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      io.stdout(CLI_INCIDENT_USAGE);
      // Exit codes as main's EXIT: a bare `lagbot incident` is a usage error.
      return sub === undefined ? 2 : 0;
    default:
      throw usageError(`unknown incident command "${sub}": list or report`);
  }
}
