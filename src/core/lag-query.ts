import type { LagRequest } from './command.js';
import { findingsOf, type Finding, type FindingSettings } from './findings.js';
import { listingOf, sortListings } from './lag.js';
import { LagUnavailableError, type Clock, type LagSource } from './ports.js';
import type { GroupLag, GroupListing } from './protocol.js';
import { closestNames } from './suggest.js';

/**
 * The one lag query behind `/lag` and `lagbot lag`: a request in, an answer out. Each
 * surface only renders the answer (Block Kit, a table, JSON) and picks its exit code.
 */
export type LagAnswer =
  | { kind: 'help' }
  /** `groups` in full for `--json`; `listings` are their headline numbers, largest lag first. */
  | { kind: 'list'; groups: GroupLag[]; listings: GroupListing[]; readAt: number }
  | { kind: 'group'; lag: GroupLag; view: 'partitions' | 'members'; findings: Finding[] }
  | { kind: 'unknown-group'; group: string; suggestions: string[] }
  | { kind: 'unavailable'; cluster: string; detail: string };

export interface LagQueryDeps {
  source: LagSource;
  clock: Clock;
  /** For the history-less findings of a one-off read (the stall and storm detectors need history). */
  findingSettings: FindingSettings;
}

/** Read what the request asks for. A cluster that cannot be read is an answer, not an exception. */
export async function answerLag(request: LagRequest, deps: LagQueryDeps): Promise<LagAnswer> {
  try {
    switch (request.kind) {
      case 'help':
        return { kind: 'help' };
      case 'list': {
        const groups = await deps.source.readAllGroups();
        return { kind: 'list', groups, listings: sortListings(groups.map(listingOf)), readAt: deps.clock.now() };
      }
      case 'group': {
        const lag = await deps.source.readGroup(request.group);
        if (!lag) return { kind: 'unknown-group', group: request.group, suggestions: closestNames(request.group, await deps.source.listGroupNames()) };
        return { kind: 'group', lag, view: request.view, findings: findingsOf({ lag, history: [], settings: deps.findingSettings }) };
      }
    }
  } catch (error) {
    if (error instanceof LagUnavailableError) return { kind: 'unavailable', cluster: error.cluster, detail: error.message };
    throw error;
  }
}
