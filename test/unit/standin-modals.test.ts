import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pickerState, type ModalView } from '../../tools/slack-standin/modals.js';
import { startSlackStandin, TRIGGER_TTL_MS, type SlackStandin } from '../../tools/slack-standin/standin.js';

/**
 * The stand-in's modals on their own: views.open answers as Slack does for a trigger_id that
 * is unknown, used or older than 3 seconds, and for a malformed modal. (The submission
 * through the real Bolt app is in test/integration/escalation.test.ts.)
 */

const modal = (overrides: Partial<ModalView> = {}): ModalView => ({
  type: 'modal',
  callback_id: 'pick',
  private_metadata: '{"incidentId":"inc-1"}',
  title: { type: 'plain_text', text: 'Add responders' },
  submit: { type: 'plain_text', text: 'Notify' },
  blocks: [{ type: 'input', block_id: 'people', label: { type: 'plain_text', text: 'Who?' }, element: { type: 'multi_users_select', action_id: 'picked' } }],
  ...overrides,
});

describe('the Slack stand-in opens modals like Slack', () => {
  let slack: SlackStandin;
  let app: Server;
  let now = Date.UTC(2026, 0, 1);

  beforeAll(async () => {
    slack = await startSlackStandin({ signingSecret: 'modal-tests', clock: () => now });
    // The app's side only needs to take the signed command: the trigger is what the test uses.
    app = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200).end());
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    slack.setEventsUrl(`http://127.0.0.1:${(app.address() as AddressInfo).port}/slack/events`);
  });

  afterAll(async () => {
    await slack.stop();
    await new Promise((resolve) => app.close(resolve));
  });

  const viewsOpen = async (args: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const response = await fetch(`${slack.apiUrl}views.open`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${slack.botToken}`, 'Content-Type': 'application/json; charset=utf-8' },
      body: JSON.stringify(args),
    });
    return (await response.json()) as Record<string, unknown>;
  };
  const trigger = async (userId = 'U0TESTER'): Promise<string> => (await slack.sendSlashCommand({ command: '/lag', text: '', userId, userName: 'someone' })).triggerId;

  it('opens a modal once per trigger_id, for the user of the interaction', async () => {
    const t = await trigger('U0MARIA');
    const opened = await viewsOpen({ trigger_id: t, view: modal() });
    expect(opened).toMatchObject({ ok: true, view: { type: 'modal', callback_id: 'pick', private_metadata: '{"incidentId":"inc-1"}', state: { values: {} } } });
    const id = (opened.view as { id: string }).id;
    expect(id).toMatch(/^V[0-9A-F]{10}$/);
    expect(slack.openModals('U0MARIA').map((m) => m.id)).toEqual([id]);
    expect(await viewsOpen({ trigger_id: t, view: modal() })).toEqual({ ok: false, error: 'exchanged_trigger_id' });
  });

  it('refuses an unknown trigger_id and one older than 3 seconds', async () => {
    expect(await viewsOpen({ trigger_id: '1.2.abc', view: modal() })).toEqual({ ok: false, error: 'invalid_trigger_id' });
    const t = await trigger();
    now += TRIGGER_TTL_MS + 1;
    expect(await viewsOpen({ trigger_id: t, view: modal() })).toEqual({ ok: false, error: 'expired_trigger_id' });
    expect(await viewsOpen({ view: modal() })).toMatchObject({ ok: false, error: 'invalid_arguments' });
  });

  it('refuses a modal Slack would refuse, and the trigger stays usable', async () => {
    const t = await trigger();
    const refused = async (view: unknown, message: RegExp) => {
      const answer = await viewsOpen({ trigger_id: t, view });
      expect(answer).toMatchObject({ ok: false, error: 'invalid_arguments' });
      expect((answer.response_metadata as { messages: string[] }).messages[0]).toMatch(message);
    };
    await refused({ ...modal(), type: 'home' }, /must be a modal view/);
    await refused(modal({ title: { type: 'plain_text', text: 'A title far longer than Slack allows' } }), /must be less than 25 characters \[json-pointer:\/view\/title\/text\]/);
    await refused(modal({ submit: undefined }), /must provide a submit property when using input blocks/);
    await refused(modal({ private_metadata: 'x'.repeat(3001) }), /private_metadata/);
    expect(await viewsOpen({ trigger_id: t, view: modal() })).toMatchObject({ ok: true });
  });

  it('builds the submitted state of user pickers as Slack sends it, and refuses what Slack would not submit', () => {
    expect(pickerState(modal(), ['U0A', 'U0B'])).toEqual({ people: { picked: { type: 'multi_users_select', selected_users: ['U0A', 'U0B'] } } });
    const single = modal({ blocks: [{ type: 'input', block_id: 'who', label: { type: 'plain_text', text: 'Who?' }, element: { type: 'users_select', action_id: 'one' } }] });
    expect(pickerState(single, ['U0A'])).toEqual({ who: { one: { type: 'users_select', selected_user: 'U0A' } } });
    expect(() => pickerState(single, ['U0A', 'U0B'])).toThrow(/picks one user/);
    expect(() => pickerState(modal(), [])).toThrow(/is required/);
  });
});
