/**
 * Every Block Kit action id lagbot sends and listens for. Views and listeners both
 * import from here so a renamed id cannot leave a button without a handler.
 */
export const ActionIds = {
  postLagToChannel: 'lag_post_to_channel',
} as const;

export type ActionId = (typeof ActionIds)[keyof typeof ActionIds];
