import { findingsOf, type Finding } from '../../src/core/findings.js';
import type { GroupLag } from '../../src/core/protocol.js';
import { DEFAULT_RULES } from '../../src/core/rules.js';

/** The findings `/lag` shows for one read (no history). */
export function findingsOfRead(lag: GroupLag): Finding[] {
  return findingsOf({ lag, history: [], settings: DEFAULT_RULES.signals });
}
