import type { AllMiddlewareArgs, BlockButtonAction, RespondFn, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { Clock } from '../../core/ports.js';
import { SILENCE_ID, type SilenceCommand } from '../../core/silence-command.js';
import type { Silence, SilenceEnding, SilencePlan, SilenceRequest } from '../../core/silence.js';
import type { Logger } from '../../log/logger.js';
import { silenceCreatedMessage, silenceEndingMessage, silenceFailureMessage, silenceListMessage, silenceProblemMessage } from '../../views/silence-text.js';
import type { SlackMessage } from '../../core/protocol.js';

/** What the silence commands and the End now button act through (the Silences of src/monitor). */
export interface SilenceActions {
  create(request: SilenceRequest, user: string): Promise<SilencePlan>;
  current(): Promise<Silence[]>;
  end(id: string, user: string): Promise<SilenceEnding>;
}

export interface SilenceListenerDeps {
  silences: SilenceActions;
  clock: Clock;
  logger: Logger;
}

/** A change to the silences someone asks for; what an access rule decides on. */
export type SilenceChange = { kind: 'silence'; request: SilenceRequest } | { kind: 'end'; id: string };

/**
 * The one place that decides who may change silences, for the command and the button alike.
 * The rule today is the incident buttons' rule: anyone in the workspace who can use `/lag`.
 * An access rule (who may silence which cluster or group) answers here with its refusal.
 */
async function refusalOf(_user: string, _change: SilenceChange): Promise<SlackMessage | null> {
  return null;
}

/** Anything that goes wrong is answered in words; it never escapes to Bolt (which would answer nothing). */
async function answering(deps: SilenceListenerDeps, what: string, work: () => Promise<SlackMessage>): Promise<SlackMessage> {
  try {
    return await work();
  } catch (error) {
    deps.logger.error({ err: error }, `${what} failed`);
    return silenceFailureMessage(error instanceof Error ? error.message : String(error));
  }
}

/** `/lag silence ...`, `/lag silences`, `/lag unsilence ID`, answered to the caller only. */
export async function answerSilenceCommand(command: SilenceCommand, user: string, deps: SilenceListenerDeps): Promise<SlackMessage> {
  return answering(deps, `/lag ${command.kind}`, async () => {
    switch (command.kind) {
      case 'list':
        return silenceListMessage(await deps.silences.current(), deps.clock.now());
      case 'silence': {
        const refused = await refusalOf(user, { kind: 'silence', request: command.request });
        if (refused) return refused;
        const plan = await deps.silences.create(command.request, user);
        return plan.ok ? silenceCreatedMessage(plan.silence, deps.clock.now()) : silenceProblemMessage(plan.problem);
      }
      case 'end': {
        const refused = await refusalOf(user, { kind: 'end', id: command.id });
        if (refused) return refused;
        return silenceEndingMessage(await deps.silences.end(command.id, user), deps.clock.now());
      }
    }
  });
}

/**
 * End now (or Cancel) on the `/lag silences` list: the list is replaced by what is left of
 * it, under a line that says what the click did.
 */
export function endSilenceButton(deps: SilenceListenerDeps) {
  return async ({ ack, action, body, respond, logger }: SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const id = action.value ?? '';
    if (!SILENCE_ID.test(id)) {
      logger.warn(`ignored silence button with value ${JSON.stringify(id).slice(0, 100)}`);
      await reply(respond, { text: 'This button does not belong to a lagbot silence.', blocks: [] }, false);
      return;
    }
    const refused = await refusalOf(body.user.id, { kind: 'end', id });
    if (refused) {
      await reply(respond, refused, false);
      return;
    }
    const message = await answering(deps, 'ending a silence', async () => {
      const ending = silenceEndingMessage(await deps.silences.end(id, body.user.id), deps.clock.now());
      const list = silenceListMessage(await deps.silences.current(), deps.clock.now());
      return { text: `${ending.text} ${list.text}`, blocks: [...ending.blocks, ...list.blocks].slice(0, 50) };
    });
    await reply(respond, message, true);
  };
}

async function reply(respond: RespondFn, message: SlackMessage, replace: boolean): Promise<void> {
  await respond({ response_type: 'ephemeral', replace_original: replace, text: message.text, ...(message.blocks.length > 0 ? { blocks: message.blocks } : {}) });
}
