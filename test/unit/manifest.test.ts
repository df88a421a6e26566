import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { registered } from '../../src/slack/register.js';

const root = new URL('../../', import.meta.url);
const manifest = parse(readFileSync(new URL('manifest.yml', root), 'utf8')) as {
  features: { slash_commands: Array<{ command: string; url: string; should_escape: boolean }>; app_home?: { home_tab_enabled?: boolean } };
  oauth_config: { scopes: { bot: string[] } };
  settings: { interactivity?: { is_enabled: boolean; request_url: string }; event_subscriptions?: { request_url: string; bot_events?: string[] } };
};

describe('manifest.yml', () => {
  it("is valid against Slack's app manifest schema", () => {
    // Slack's schema (MIT, vendored beside it) uses its own format names; only "uri" matters here.
    const schema = JSON.parse(readFileSync(new URL('test/fixtures/slack-manifest/schema.1.0.0.json', root), 'utf8')) as object;
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
    addFormats.default(ajv);
    const validate = ajv.compile(schema);
    const ok = validate(manifest);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it('declares exactly the slash commands the code registers', () => {
    expect(manifest.features.slash_commands.map((c) => c.command).sort()).toEqual([...registered.commands].sort());
  });

  it('enables interactivity because the code listens for button actions', () => {
    expect(registered.actions.length).toBeGreaterThan(0);
    expect(manifest.settings.interactivity?.is_enabled).toBe(true);
  });

  it('asks for exactly the bot scopes the code uses', () => {
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual([...registered.botScopes].sort());
  });

  it('subscribes to exactly the bot events the code listens for, and enables the Home tab it publishes', () => {
    expect([...(manifest.settings.event_subscriptions?.bot_events ?? [])].sort()).toEqual([...registered.events].sort());
    expect(manifest.features.app_home?.home_tab_enabled).toBe(true);
  });

  it('asks for files:write, which the chart and postmortem uploads need', () => {
    expect(manifest.oauth_config.scopes.bot).toContain('files:write');
  });

  it('asks for what the access rules read: user groups (usergroups.users.list) and channel members (conversations.members)', () => {
    expect(manifest.oauth_config.scopes.bot).toEqual(expect.arrayContaining(['usergroups:read', 'channels:read', 'groups:read']));
  });

  it('sends commands, clicks and events to the Bolt endpoint', () => {
    const urls = [
      ...manifest.features.slash_commands.map((c) => c.url),
      manifest.settings.interactivity?.request_url,
      manifest.settings.event_subscriptions?.request_url,
    ];
    for (const url of urls) expect(new URL(url ?? '').pathname).toBe('/slack/events');
  });
});
