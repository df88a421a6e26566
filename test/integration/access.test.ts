import type { Admin, Consumer, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActionIds } from '../../src/core/action-ids.js';
import type { ButtonClickInput } from '../../tools/slack-standin/standin.js';
import type { StoredMessage } from '../../tools/slack-standin/types.js';
import { caughtUpGroup, createTopic, eventually, kafkaClient, produce, uniqueName } from '../support/kafka.js';
import { ALERTS, fastIncidentYaml, startIncidentRig, tempStorePath, type IncidentRig } from '../support/lagbot.js';
import { readable } from '../support/slack.js';

const CACHE_SECONDS = 4;

/**
 * Who may see and do what, through signed requests against the real Bolt app and a real
 * broker: the access rules of the configuration decide every click and every `/lag`, with
 * memberships read from the Slack stand-in as Slack answers them.
 */
describe('access rules', () => {
  let kafka: Kafka;
  let admin: Admin;
  let consumer: Consumer;
  let rig: IncidentRig;
  const topic = uniqueName('payments');
  const group = uniqueName('payments-consumer');
  const visible = uniqueName('orders-consumer');
  const secret = `secret-${uniqueName('ledger')}`;

  const yaml = (storePath: string) =>
    fastIncidentYaml(
      group,
      storePath,
      `
access:
  membershipCacheSeconds: ${CACHE_SECONDS}
  snooze: [S0SNOOZE]
  resolve: [U0LEAD]
  query: [C0SRE, S0SRE]
groups:
  - match: "secret-*"
    access: { query: [C0SECRET] }
`,
      { resolveAfterMinutes: 60 },
    );

  const root = (): StoredMessage | undefined => rig.slack.messages(ALERTS).find((m) => readable(m).includes(`consumer lag · ${group}`));
  const threadText = (): string[] => {
    const r = root();
    return r ? rig.slack.thread(ALERTS, r.ts).slice(1).filter((m) => !m.files?.length).map((m) => m.text) : [];
  };

  async function click(actionId: string, userId: string, overrides: Partial<ButtonClickInput> = {}) {
    return rig.slack.clickButton({ message: root() as StoredMessage, actionId, userId, ...overrides });
  }

  /** The private answer to a click. */
  async function answerTo(delivered: { status: number; responseUrlId: string }): Promise<string> {
    expect(delivered.status).toBe(200);
    const answer = await rig.slack.waitForResponse(delivered.responseUrlId, 10_000);
    expect(answer.body.response_type).toBe('ephemeral');
    return answer.body.text ?? '';
  }

  /** What the asker reads: the blocks of an answer, or the text of a refusal (which has none). */
  async function lag(text: string, userId: string, channelId: string): Promise<string> {
    const sent = await rig.slack.sendSlashCommand({ command: '/lag', text, userId, channelId });
    expect(sent.status).toBe(200);
    const response = await rig.slack.waitForResponse(sent.responseUrlId, 15_000);
    expect(response.body.response_type).toBe('ephemeral');
    return response.body.blocks?.length ? readable(response.body) : (response.body.text ?? '');
  }

  beforeAll(async () => {
    kafka = kafkaClient();
    admin = kafka.admin();
    await admin.connect();
    consumer = await caughtUpGroup(kafka, admin, topic, group, [10, 10, 10]);
    // Two groups with lag that nothing consumes: one any SRE may read, one only its own channel.
    await admin.setOffsets({ groupId: visible, topic, partitions: [{ partition: 0, offset: '1' }] });
    const secretTopic = uniqueName('ledger');
    await createTopic(admin, secretTopic, 1);
    await produce(kafka, secretTopic, [50]);
    await admin.setOffsets({ groupId: secret, topic: secretTopic, partitions: [{ partition: 0, offset: '5' }] });
    rig = await startIncidentRig(yaml(await tempStorePath()));
    rig.slack.memberships.setUsergroup('S0SRE', ['U0SRE']);
    rig.slack.memberships.setUsergroup('S0SNOOZE', ['U0SNOOZER']);
    rig.slack.memberships.setChannelMembers(ALERTS, ['U0MEMBER', 'U0SNOOZER', 'U0LEAD']);
  });

  afterAll(async () => {
    await rig?.stop();
    await consumer?.disconnect();
    await admin?.disconnect();
  });

  describe('/lag', () => {
    it('refuses a channel outside the rules with the same words whether or not the group exists', async () => {
      const missing = uniqueName('no-such-consumer');
      const [existing, absent] = [await lag(visible, 'U0OUTSIDER', 'C0RANDOM'), await lag(missing, 'U0OUTSIDER', 'C0RANDOM')];
      expect(existing).toBe('You may not read that with /lag here: the access rules (`access.query`) do not let you in from this channel.');
      expect(absent).toBe(existing);
      // Under a groups rule of its own, the same holds: its rule is named, its groups are not.
      const [secretText, secretAbsent] = [await lag(secret, 'U0OUTSIDER', 'C0SRE'), await lag(`secret-${missing}`, 'U0OUTSIDER', 'C0SRE')];
      expect(secretText).toBe('You may not read that with /lag here: the access rules (`groups[0] (match "secret-*") access.query`) do not let you in from this channel.');
      expect(secretAbsent).toBe(secretText);
      expect(`${existing}${secretText}`).not.toContain(visible);
    });

    it('answers in a channel the rules list, and anywhere for a member of a user group they list', async () => {
      expect(await lag(visible, 'U0OUTSIDER', 'C0SRE')).toContain(`\`${visible}\`: total lag`);
      expect(await lag(visible, 'U0SRE', 'C0RANDOM')).toContain(`\`${visible}\`: total lag`);
      expect(await lag(secret, 'U0OUTSIDER', 'C0SECRET')).toContain(`\`${secret}\`: total lag 45`);
    });

    it('lists only what the asker may read, and suggests no name they may not read', async () => {
      const inSecret = await lag('list', 'U0OUTSIDER', 'C0SECRET');
      expect(inSecret).toContain(secret);
      expect(inSecret).toContain('*Groups*\n1\n');
      expect(inSecret).not.toContain(visible);
      const inSre = await lag('list', 'U0OUTSIDER', 'C0SRE');
      expect(inSre).toContain('Consumer groups');
      expect(inSre).not.toContain(secret);

      const typo = secret.slice(0, -1);
      expect(await lag(typo, 'U0OUTSIDER', 'C0SECRET')).toContain(`\`${secret}\``);
      const sreTypo = await lag(`${visible.slice(0, -1)}`, 'U0OUTSIDER', 'C0SRE');
      expect(sreTypo).toContain('No such group');
      expect(sreTypo).not.toContain(secret);
    });

    it('refuses, failing closed, when Slack cannot say who is in a listed user group', async () => {
      // Once what lagbot read of the group has expired, the next ask goes to Slack.
      rig.slack.memberships.setUsergroup('S0SRE', ['U0SRE', 'U0NEWSRE']);
      await new Promise((r) => setTimeout(r, CACHE_SECONDS * 1000 + 200));
      rig.slack.failNext('usergroups.users.list', { error: 'missing_scope' });
      expect(await lag(visible, 'U0NEWSRE', 'C0RANDOM')).toBe(
        'lagbot could not check what you may read with /lag: Slack did not say who is in <!subteam^S0SRE> (missing_scope). Try again in a minute, or ask whoever runs lagbot.',
      );
      // A failed read is not kept: the next ask reads again.
      expect(await lag(visible, 'U0NEWSRE', 'C0RANDOM')).toContain(`\`${visible}\`: total lag`);
    });
  });

  describe('incident actions', () => {
    it('opens an incident to act on', async () => {
      consumer.pause([{ topic }]);
      await eventually(
        async () => {
          await produce(kafka, topic, [20, 250, 20]);
          return root();
        },
        'the incident root message',
        30_000,
      );
    });

    it('shows on the Home tab only what the viewer may read', async () => {
      const home = async (userId: string): Promise<string> => {
        const opened = await rig.slack.openHome({ userId });
        expect(opened.status).toBe(200);
        return readable((await eventually(async () => rig.slack.homeView(userId), `the Home tab of ${userId}`, 10_000)).view.blocks);
      };
      await eventually(async () => (await home('U0SRE')).includes(group), 'the incident on the Home tab of an SRE', 15_000);
      const outsider = await home('U0OUTSIDER');
      expect(outsider).toContain('*No open incidents*');
      expect(outsider).not.toContain(group);
    });

    it('acknowledge: the channel members by default; anyone else is refused, privately and in the thread', async () => {
      const refused = await answerTo(await click(ActionIds.acknowledgeIncident, 'U0OUTSIDER'));
      expect(refused).toBe("You may not acknowledge this incident: `the default (channel-members)` lets in the members of the incident's channel. Nothing changed.");
      await eventually(async () => threadText().find((t) => t.includes('<@U0OUTSIDER> tried to acknowledge; not allowed (`the default (channel-members)`).')), 'the refusal in the thread', 10_000);
      expect(readable(root())).not.toContain('<@U0OUTSIDER>');

      const allowed = await click(ActionIds.acknowledgeIncident, 'U0MEMBER');
      expect(allowed.status).toBe(200);
      await eventually(async () => readable(root()).includes('*Acknowledged*\n<@U0MEMBER>'), 'the acknowledgement on the root', 10_000);
      expect(rig.slack.callsOf('conversations.members').every((c) => c.args.channel === ALERTS)).toBe(true);
    });

    it('snooze: members of the user group only; fails closed when Slack cannot say; a removed member is refused once the cache has expired', async () => {
      rig.slack.failNext('usergroups.users.list', { error: 'no_such_subteam' });
      const unreadable = await answerTo(await click(ActionIds.snoozeIncidentShort, 'U0SNOOZER'));
      expect(unreadable).toBe(
        'lagbot could not check whether you may snooze this incident: Slack did not say who is in <!subteam^S0SNOOZE> (no_such_subteam). Nothing changed; try again in a minute, or ask whoever runs lagbot.',
      );
      await eventually(async () => threadText().find((t) => t.includes(':no_entry:') && t.includes('<@U0SNOOZER> tried to snooze; refused: lagbot could not read from Slack')), 'the unreadable refusal in the thread', 10_000);

      // This read of the group is the one lagbot trusts for CACHE_SECONDS.
      const readAt = Date.now();
      expect(await answerTo(await click(ActionIds.snoozeIncidentShort, 'U0MEMBER'))).toBe('You may not snooze this incident: `access.snooze` lets in <!subteam^S0SNOOZE>. Nothing changed.');

      expect((await click(ActionIds.snoozeIncidentShort, 'U0SNOOZER')).status).toBe(200);
      await eventually(async () => threadText().find((t) => t.includes('Snoozed by <@U0SNOOZER> for 30 min')), 'the snooze', 10_000);

      // Removed from the group in Slack: lagbot goes on trusting what it read until the cache expires.
      rig.slack.memberships.removeFromUsergroup('S0SNOOZE', 'U0SNOOZER');
      expect((await click(ActionIds.snoozeIncidentLong, 'U0SNOOZER')).status).toBe(200);
      expect(Date.now() - readAt).toBeLessThan(CACHE_SECONDS * 1000);
      await eventually(async () => threadText().find((t) => t.includes('Snoozed by <@U0SNOOZER> for 2 h')), 'the snooze within the cache', 10_000);

      await new Promise((r) => setTimeout(r, Math.max(0, readAt + CACHE_SECONDS * 1000 + 200 - Date.now())));
      const after = await answerTo(await click(ActionIds.snoozeIncidentLong, 'U0SNOOZER'));
      expect(after).toBe('You may not snooze this incident: `access.snooze` lets in <!subteam^S0SNOOZE>. Nothing changed.');
    });

    it('a forged user id in a validly signed payload is refused with 401 and nothing happens', async () => {
      const responses = rig.slack.responses.length;
      // Signed for U0OUTSIDER, then the body says U0LEAD, who may resolve: the signature no longer covers it.
      const forged = await click(ActionIds.resolveIncident, 'U0OUTSIDER', { tamper: (body) => body.replaceAll('U0OUTSIDER', 'U0LEAD') });
      expect(forged.status).toBe(401);
      // Stale: signed correctly, six minutes ago; and six minutes ahead.
      const stale = await click(ActionIds.resolveIncident, 'U0LEAD', { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 });
      expect(stale.status).toBe(401);
      const future = await click(ActionIds.resolveIncident, 'U0LEAD', { timestamp: Math.floor(Date.now() / 1000) + 6 * 60 });
      expect(future.status).toBe(401);

      await new Promise((r) => setTimeout(r, 1_500));
      expect(rig.slack.responses.length).toBe(responses);
      expect(threadText().filter((t) => t.includes('U0LEAD'))).toEqual([]);
      expect(readable(root())).not.toContain('RESOLVED');
    });

    it('resolve: only the listed user; a channel member is refused', async () => {
      expect(await answerTo(await click(ActionIds.resolveIncident, 'U0MEMBER'))).toBe('You may not resolve this incident: `access.resolve` lets in <@U0LEAD>. Nothing changed.');
      await eventually(async () => threadText().find((t) => t.includes('<@U0MEMBER> tried to resolve; not allowed (`access.resolve`).')), 'the refusal in the thread', 10_000);
      expect(readable(root())).not.toContain('RESOLVED');

      expect((await click(ActionIds.resolveIncident, 'U0LEAD')).status).toBe(200);
      await eventually(async () => threadText().find((t) => t.includes('Resolved by <@U0LEAD>')), 'the resolution', 10_000);
      await eventually(async () => readable(root()).includes('RESOLVED'), 'the root to show RESOLVED', 10_000);
    });

    it("silence: the members of the group's incident channel by default, for setting and ending alike", async () => {
      expect(await lag(`silence ${group} 1h deploy`, 'U0OUTSIDER', 'C0RANDOM')).toBe(
        `You may not silence \`${group}\`: \`the default (channel-members)\` lets in the members of the incident's channel. Nothing changed.`,
      );
      const set = await lag(`silence ${group} 1h deploy`, 'U0MEMBER', 'C0RANDOM');
      expect(set).toContain(':no_bell: Silenced:');
      const id = /`(sil-[a-z0-9]+)`/.exec(set)?.[1] ?? '';
      // The list tells only of silences on groups the asker may read.
      expect(await lag('silences', 'U0OUTSIDER', 'C0SRE')).toContain(id);
      expect(await lag('silences', 'U0OUTSIDER', 'C0RANDOM')).not.toContain(group);
      expect(await lag(`unsilence ${id}`, 'U0OUTSIDER', 'C0RANDOM')).toBe(
        `You may not end the silence of \`${group}\`: \`the default (channel-members)\` lets in the members of the incident's channel. Nothing changed.`,
      );
      expect(await lag(`unsilence ${id}`, 'U0MEMBER', 'C0RANDOM')).not.toContain('You may not');
    });

    it('keeps the refusals in the thread and in the stored timeline the postmortem is drafted from', async () => {
      const texts = threadText().filter((t) => t.includes('tried to'));
      expect(texts.map((t) => /<@(U0[A-Z]+)> tried to ([a-z]+)/.exec(t)?.slice(1).join(' '))).toEqual([
        'U0OUTSIDER acknowledge',
        'U0SNOOZER snooze',
        'U0MEMBER snooze',
        'U0SNOOZER snooze',
        'U0MEMBER resolve',
      ]);
      const draft = await eventually(
        async () => rig.slack.thread(ALERTS, (root() as StoredMessage).ts).flatMap((m) => m.files ?? []).find((f) => f.name.startsWith('postmortem-')),
        'the postmortem draft',
        20_000,
      );
      const markdown = rig.slack.fileBytes(draft.id)?.toString('utf8') ?? '';
      expect(markdown).toContain('tried to resolve; not allowed (`access.resolve`).');
      expect(markdown).toContain('tried to acknowledge; not allowed (`the default (channel-members)`).');
    });
  });
});
