import type { AllMiddlewareArgs, BlockButtonAction, RespondFn, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { Clock } from '../../core/ports.js';
import { SILENCE_ID, type SilenceCommand } from '../../core/silence-command.js';
import type { Silence, SilenceEnding, SilencePlan, SilenceRequest, SilenceTarget } from '../../core/silence.js';
import type { Logger } from '../../log/logger.js';
import { silenceCreatedMessage, silenceEndingMessage, silenceFailureMessage, silenceListMessage, silenceProblemMessage } from '../../views/silence-text.js';
import type { SlackMessage } from '../../core/protocol.js';
import { actionRefusedText } from '../../views/access-text.js';
import type { TextStyle } from '../../views/text-style.js';
import type { AccessGuard } from '../access-guard.js';

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
  /** The access rules' `silence` key; without it, anyone may. */
  access?: AccessGuard;
}

/** A change to the silences someone asks for; what an access rule decides on. */
export type SilenceChange = { kind: 'silence'; request: SilenceRequest } | { kind: 'end'; id: string };

/**
 * The one place that decides who may change silences, for the command and the button alike:
 * the access rules' `silence` key (see AccessGuard.maySilence). Ending a silence is decided
 * like setting it, on what it silences.
 */
async function refusalOf(user: string, change: SilenceChange, deps: SilenceListenerDeps, typedIn?: string): Promise<SlackMessage | null> {
  if (!deps.access) return null;
  const target = change.kind === 'silence' ? change.request.target : (await deps.silences.current()).find((s) => s.id === change.id)?.target;
  // An unknown silence gets the ending's own "no such silence".
  if (!target) return null;
  const decision = await deps.access.maySilence(user, target, typedIn);
  if (decision.allowed) return null;
  const what = change.kind === 'silence' ? 'silence' : 'end the silence of';
  return { text: actionRefusedText('silence', decision, (s) => `${what} ${silenceTargetText(target, s)}`), blocks: [] };
}

/** The silences in force or ahead that the asker may read of (all of them without access rules). */
async function readable(deps: SilenceListenerDeps, user: string, typedIn: string | undefined): Promise<Silence[]> {
  const all = await deps.silences.current();
  return deps.access ? deps.access.readableSilences(user, typedIn, all) : all;
}

/** What a silence covers, in a refusal: names are the person's own words, shown as code. */
function silenceTargetText(target: SilenceTarget, s: TextStyle): string {
  if (target.kind === 'cluster') return `the cluster ${s.name(target.cluster)}`;
  return target.cluster !== null ? `${s.name(target.pattern)} on ${s.name(target.cluster)}` : s.name(target.pattern);
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
export async function answerSilenceCommand(command: SilenceCommand, user: string, deps: SilenceListenerDeps, typedIn?: string): Promise<SlackMessage> {
  return answering(deps, `/lag ${command.kind}`, async () => {
    switch (command.kind) {
      case 'list':
        return silenceListMessage(await readable(deps, user, typedIn), deps.clock.now());
      case 'silence': {
        const refused = await refusalOf(user, { kind: 'silence', request: command.request }, deps, typedIn);
        if (refused) return refused;
        const plan = await deps.silences.create(command.request, user);
        return plan.ok ? silenceCreatedMessage(plan.silence, deps.clock.now()) : silenceProblemMessage(plan.problem);
      }
      case 'end': {
        const refused = await refusalOf(user, { kind: 'end', id: command.id }, deps, typedIn);
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
    const refused = await refusalOf(body.user.id, { kind: 'end', id }, deps, body.channel?.id);
    if (refused) {
      await reply(respond, refused, false);
      return;
    }
    const message = await answering(deps, 'ending a silence', async () => {
      const ending = silenceEndingMessage(await deps.silences.end(id, body.user.id), deps.clock.now());
      const list = silenceListMessage(await readable(deps, body.user.id, body.channel?.id), deps.clock.now());
      return { text: `${ending.text} ${list.text}`, blocks: [...ending.blocks, ...list.blocks].slice(0, 50) };
    });
    await reply(respond, message, true);
  };
}

async function reply(respond: RespondFn, message: SlackMessage, replace: boolean): Promise<void> {
  await respond({ response_type: 'ephemeral', replace_original: replace, text: message.text, ...(message.blocks.length > 0 ? { blocks: message.blocks } : {}) });
}
