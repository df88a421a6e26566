import type { Incident, SlackEffect, SlackMessage } from '../../src/core/protocol.js';

/** A plain open warning incident; tests override what they care about. */
export function incidentFixture(id: string, group: string, overrides: Partial<Incident> = {}): Incident {
  const at = overrides.openedAt ?? 1_700_000_000_000;
  return {
    id,
    cluster: 'default',
    group,
    channel: 'C0LAGALERT',
    status: 'open',
    severity: 'warning',
    peakSeverity: 'warning',
    openedAt: at,
    updatedAt: at,
    peakLag: 5_000,
    peakLagAt: at,
    openingConsumePerSec: null,
    figures: {
      at,
      totalLag: 5_000,
      lagGrowthPerSec: null,
      producePerSec: null,
      consumePerSec: null,
      state: 'Stable',
      members: 3,
      partitions: 3,
      hotPartition: null,
      drainMs: null,
      nextThreshold: null,
    },
    acknowledged: null,
    snoozed: null,
    resolved: null,
    lastNotifiedAt: null,
    belowWarningSince: null,
    belowWarningObservedMs: 0,
    lastObservedAt: null,
    lowerSeverity: null,
    rootRefreshedAt: at,
    told: [],
    lastState: 'Stable',
    lastMemberIds: ['m-1'],
    ...overrides,
  };
}

export const message = (text: string): SlackMessage => ({ text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] });

/** The effects that carry a message (every kind but a file). */
export type MessageEffect = Extract<SlackEffect, { message: SlackMessage }>;

/** Slack effects for store and delivery tests, each a one-line message. */
export const effects = {
  postRoot: (incidentId: string, channel: string, text = 'root'): MessageEffect => ({ kind: 'post-root', incidentId, channel, message: message(text) }),
  updateRoot: (incidentId: string, channel: string, text: string): MessageEffect => ({ kind: 'update-root', incidentId, channel, message: message(text) }),
  postThread: (incidentId: string, channel: string, text: string): MessageEffect => ({ kind: 'post-thread', incidentId, channel, message: message(text) }),
  postChannel: (channel: string, text: string): MessageEffect => ({ kind: 'post-channel', channel, message: message(text) }),
};
