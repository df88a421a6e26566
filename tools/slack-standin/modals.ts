import { randomBytes } from 'node:crypto';
import { MAX_VIEW_BLOCKS } from './content.js';
import { isPlainObject } from './http.js';
import type { Block } from './types.js';

/**
 * Modals as Slack runs them: `views.open` needs the trigger_id of an interaction that
 * happened less than 3 seconds ago, and each trigger opens one view at most. An open modal
 * is submitted by its user (a signed `view_submission`, built by the stand-in) and closes
 * when the app answers with an empty ack, or stays open with the errors the app names.
 */

/** How long a trigger_id can open a view (Slack: 3 seconds). */
export const TRIGGER_TTL_MS = 3_000;
/** Slack's limits on a modal view. */
export const MODAL_LIMITS = { title: 24, button: 24, callbackId: 255, privateMetadata: 3_000 } as const;

export interface ModalView {
  type: 'modal';
  title: { type: 'plain_text'; text: string };
  blocks: Block[];
  callback_id?: string;
  private_metadata?: string;
  submit?: { type: 'plain_text'; text: string };
  close?: { type: 'plain_text'; text: string };
  [key: string]: unknown;
}

export interface OpenModal {
  /** Slack's view id (`V…`). */
  id: string;
  user: string;
  view: ModalView;
  hash: string;
  openedAt: number;
  /** What the app's latest `response_action: errors` said, by block_id. */
  errors: Record<string, string> | null;
}

type OpenResult = { ok: true; modal: OpenModal } | { ok: false; error: string; messages?: string[] };

interface Trigger {
  user: string;
  issuedAt: number;
  used: boolean;
}

export class Modals {
  private readonly triggers = new Map<string, Trigger>();
  private readonly open = new Map<string, OpenModal>();

  constructor(
    private readonly clock: () => number,
    /** Told when a modal opens, shows errors or closes (the playground redraws it). */
    private readonly changed: (change: { id: string; user: string; open: boolean }) => void = () => undefined,
  ) {}

  /** A trigger handed to the app with an interaction of `user`. */
  issueTrigger(trigger: string, user: string): void {
    this.triggers.set(trigger, { user, issuedAt: this.clock(), used: false });
  }

  /** `views.open`: the errors Slack gives for a bad trigger or a malformed modal. */
  openView(triggerId: string, view: unknown): OpenResult {
    const trigger = this.triggers.get(triggerId);
    if (!trigger) return { ok: false, error: 'invalid_trigger_id' };
    if (trigger.used) return { ok: false, error: 'exchanged_trigger_id' };
    if (this.clock() - trigger.issuedAt > TRIGGER_TTL_MS) return { ok: false, error: 'expired_trigger_id' };
    const problem = modalProblem(view);
    if (problem) return { ok: false, error: 'invalid_arguments', messages: [`[ERROR] ${problem}`] };
    trigger.used = true;
    const modal: OpenModal = { id: `V${randomBytes(5).toString('hex').toUpperCase()}`, user: trigger.user, view: view as ModalView, hash: `${Date.now()}.${randomBytes(4).toString('hex')}`, openedAt: this.clock(), errors: null };
    this.open.set(modal.id, modal);
    this.changed({ id: modal.id, user: modal.user, open: true });
    return { ok: true, modal };
  }

  /** Open modals, oldest first; of one user when given. */
  list(user?: string): OpenModal[] {
    return [...this.open.values()].filter((m) => user === undefined || m.user === user);
  }

  get(id: string): OpenModal | undefined {
    return this.open.get(id);
  }

  /** The app answered a submission with `response_action: errors`: the modal stays open showing them. */
  showErrors(id: string, errors: Record<string, string> | null): void {
    const modal = this.open.get(id);
    if (!modal) return;
    modal.errors = errors;
    this.changed({ id, user: modal.user, open: true });
  }

  close(id: string): void {
    const modal = this.open.get(id);
    if (!modal) return;
    this.open.delete(id);
    this.changed({ id, user: modal.user, open: false });
  }
}

function plainText(value: unknown, max: number, where: string): string | null {
  if (!isPlainObject(value) || value.type !== 'plain_text' || typeof value.text !== 'string' || value.text.length === 0) return `must be a plain_text object [json-pointer:/view/${where}]`;
  return value.text.length > max ? `must be less than ${max + 1} characters [json-pointer:/view/${where}/text]` : null;
}

/** What Slack would refuse in a modal view, in its words; null when it is fine. */
function modalProblem(view: unknown): string | null {
  if (!isPlainObject(view)) return 'failed to match all allowed schemas [json-pointer:/view]';
  if (view.type !== 'modal') return 'must be a modal view [json-pointer:/view/type]';
  const title = plainText(view.title, MODAL_LIMITS.title, 'title');
  if (title) return title;
  if (!Array.isArray(view.blocks)) return 'missing required field: blocks [json-pointer:/view/blocks]';
  if (view.blocks.length > MAX_VIEW_BLOCKS) return `no more than ${MAX_VIEW_BLOCKS} items allowed [json-pointer:/view/blocks]`;
  const bad = view.blocks.findIndex((b) => !isPlainObject(b) || typeof b.type !== 'string');
  if (bad !== -1) return `missing required field: type [json-pointer:/view/blocks/${bad}]`;
  for (const key of ['submit', 'close'] as const) {
    if (view[key] === undefined) continue;
    const problem = plainText(view[key], MODAL_LIMITS.button, key);
    if (problem) return problem;
  }
  const hasInput = (view.blocks as Block[]).some((b) => b.type === 'input');
  if (hasInput && view.submit === undefined) return 'must provide a submit property when using input blocks [json-pointer:/view]';
  if (typeof view.callback_id === 'string' && view.callback_id.length > MODAL_LIMITS.callbackId) return `must be less than ${MODAL_LIMITS.callbackId + 1} characters [json-pointer:/view/callback_id]`;
  if (typeof view.private_metadata === 'string' && view.private_metadata.length > MODAL_LIMITS.privateMetadata) {
    return `must be less than ${MODAL_LIMITS.privateMetadata + 1} characters [json-pointer:/view/private_metadata]`;
  }
  return null;
}

/**
 * The `state.values` Slack sends with a submission, from the users picked for each user
 * picker of the modal: `multi_users_select` takes any number, `users_select` one. A
 * required input left empty is refused, as Slack's client would not submit it.
 */
export function pickerState(view: ModalView, users: readonly string[]): Record<string, Record<string, unknown>> {
  const values: Record<string, Record<string, unknown>> = {};
  for (const block of view.blocks) {
    if (block.type !== 'input' || !isPlainObject(block.element)) continue;
    const element = block.element;
    const blockId = typeof block.block_id === 'string' ? block.block_id : '';
    const actionId = typeof element.action_id === 'string' ? element.action_id : '';
    if (users.length === 0 && block.optional !== true) throw new Error(`Slack stand-in: input "${blockId}" is required; Slack would not submit the modal without it`);
    if (element.type === 'multi_users_select') values[blockId] = { [actionId]: { type: 'multi_users_select', selected_users: [...users] } };
    else if (element.type === 'users_select') {
      if (users.length > 1) throw new Error(`Slack stand-in: input "${blockId}" picks one user, not ${users.length}`);
      values[blockId] = { [actionId]: { type: 'users_select', selected_user: users[0] ?? null } };
    } else throw new Error(`Slack stand-in: input "${blockId}" is a ${String(element.type)}, not a user picker`);
  }
  return values;
}
