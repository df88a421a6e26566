import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, requireSlackSecrets } from '../../src/config/config.js';

describe('parseConfig', () => {
  it('starts from the environment alone', () => {
    const config = parseConfig('', { KAFKA_BROKERS: '127.0.0.1:9092, 127.0.0.1:9093', SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's', PORT: '8080' });
    expect(config.kafka.brokers).toEqual(['127.0.0.1:9092', '127.0.0.1:9093']);
    expect(config.slack.mode).toBe('http');
    expect(config.http.port).toBe(8080);
    expect(config.slack.command).toBe('/lag');
  });

  it('picks Socket Mode when an app token is set', () => {
    expect(parseConfig('', { KAFKA_BROKERS: 'k:9092', SLACK_APP_TOKEN: 'xapp-1' }).slack.mode).toBe('socket');
  });

  it('reads the YAML file, with KAFKA_BROKERS and SLACK_API_URL taking precedence', () => {
    const yaml = 'kafka:\n  brokers: [a:1]\n  clientId: ops-lagbot\nslack:\n  mode: socket\nhttp:\n  port: 9000\n';
    const config = parseConfig(yaml, { KAFKA_BROKERS: 'b:2', SLACK_API_URL: 'http://127.0.0.1:5555/api/' }, 'lagbot.yaml');
    expect(config.kafka).toMatchObject({ brokers: ['b:2'], clientId: 'ops-lagbot' });
    expect(config.slack).toMatchObject({ mode: 'socket', apiUrl: 'http://127.0.0.1:5555/api/' });
    expect(config.http.port).toBe(9000);
  });

  it('names an unknown key and where it is', () => {
    expect(() => parseConfig('kafka:\n  brokers: [a:1]\n  brokerz: [b:2]\n', {}, 'lagbot.yaml')).toThrow(/lagbot\.yaml:\n\s+kafka\.brokerz: unknown key \(allowed: brokers, clientId, ssl, sasl,/);
    expect(() => parseConfig('kafak: {}\n', {}, 'lagbot.yaml')).toThrow('kafak: unknown key (allowed: kafka, slack, http)');
  });

  it('names a bad value and what is allowed', () => {
    expect(() => parseConfig('slack:\n  mode: carrier-pigeon\n', { KAFKA_BROKERS: 'a:1' })).toThrow(/slack\.mode: .*"http"\|"socket"/);
    expect(() => parseConfig('', { KAFKA_BROKERS: 'no-port' })).toThrow(/kafka\.brokers\.0: expected host:port/);
    expect(() => parseConfig('', { KAFKA_BROKERS: 'a:1', PORT: 'eighty' })).toThrow(/PORT: expected a port number/);
  });

  it('says how to give brokers when there are none', () => {
    expect(() => parseConfig('', {})).toThrow(/No Kafka brokers: set KAFKA_BROKERS/);
  });

  it('rejects YAML that is not a mapping, and broken YAML with its line', () => {
    expect(() => parseConfig('- a\n- b\n', {})).toThrow(ConfigError);
    expect(() => parseConfig('kafka:\n  brokers: [a:1\n', {}, 'f.yaml')).toThrow(/f\.yaml: not valid YAML/);
  });

  it('keeps secrets out of the file: SASL needs its password from the environment', () => {
    expect(() => parseConfig('kafka:\n  sasl: { mechanism: plain, username: u }\n', { KAFKA_BROKERS: 'a:1' })).toThrow(/KAFKA_SASL_PASSWORD/);
  });
});

describe('requireSlackSecrets', () => {
  it('lists everything missing for the mode', () => {
    const config = parseConfig('', { KAFKA_BROKERS: 'a:1' });
    expect(() => requireSlackSecrets(config)).toThrow('Missing for Slack http mode: SLACK_BOT_TOKEN (xoxb-...), SLACK_SIGNING_SECRET (HTTP mode)');
  });
});
