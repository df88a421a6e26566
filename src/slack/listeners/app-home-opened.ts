import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import type { HomeOpened } from '../home-tab.js';

/** Slack user ids; anything else in the event is not a user lagbot can publish to. */
const USER_ID = /^[UW][A-Z0-9]{1,30}$/;

/**
 * A user opened lagbot's Home tab: publish it for them (Slack shows the last published
 * view meanwhile). The event also fires for the Messages tab, which has nothing of ours.
 */
export function appHomeOpened(home: HomeOpened) {
  return async ({ event, logger }: SlackEventMiddlewareArgs<'app_home_opened'> & AllMiddlewareArgs): Promise<void> => {
    if (event.tab !== 'home') return;
    if (!USER_ID.test(event.user)) {
      logger.warn(`ignored app_home_opened for user ${JSON.stringify(event.user).slice(0, 60)}`);
      return;
    }
    await home.opened(event.user);
  };
}
