/**
 * Slack answers any token but an app-level one on apps.connections.open with
 * not_allowed_token_type, which @slack/socket-mode retries forever: a Socket Mode start-up
 * with the wrong kind of token would hang instead of failing. Checked by the configuration
 * (exit 2, before anything opens) and again where Socket Mode starts.
 */
export function appTokenProblem(token: string): string | null {
  return token.startsWith('xapp-') ? null : 'SLACK_APP_TOKEN must be an app-level token (xapp-...), not a bot or user token';
}
