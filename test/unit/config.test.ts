import { describe, expect, it } from 'vitest';
import { storeTarget } from '../../src/config/alerting.js';
import { accessRulesOf } from '../../src/config/access.js';
import { ConfigError, parseConfig, requireSlackSecrets } from '../../src/config/config.js';

const ref = (group: string) => ({ cluster: 'default', group });

describe('parseConfig', () => {
  it('starts from the environment alone', () => {
    const config = parseConfig('', { KAFKA_BROKERS: '127.0.0.1:9092, 127.0.0.1:9093', SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's', PORT: '8080' });
    expect(config.clusters[0]!.brokers).toEqual(['127.0.0.1:9092', '127.0.0.1:9093']);
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
    expect(config.clusters[0]).toMatchObject({ brokers: ['b:2'], clientId: 'ops-lagbot' });
    expect(config.slack).toMatchObject({ mode: 'socket', apiUrl: 'http://127.0.0.1:5555/api/' });
    expect(config.http.port).toBe(9000);
  });

  it('names an unknown key and where it is', () => {
    expect(() => parseConfig('kafka:\n  brokers: [a:1]\n  brokerz: [b:2]\n', {}, 'lagbot.yaml')).toThrow(/lagbot\.yaml:\n\s+kafka\.brokerz: unknown key \(allowed: brokers, clientId, ssl, sasl,/);
    expect(() => parseConfig('kafak: {}\n', {}, 'lagbot.yaml')).toThrow('kafak: unknown key (allowed: kafka, clusters, slack, http, check, watch, alerting, thresholds, signals, groups, access, store, postmortem)');
  });

  it('writes postmortems in UTC unless postmortem.timeZone names an IANA zone, and names a zone that is not one', () => {
    expect(parseConfig('', { KAFKA_BROKERS: 'k:9092' }).postmortem.timeZone).toBe('UTC');
    expect(parseConfig('postmortem:\n  timeZone: Europe/Berlin\n', { KAFKA_BROKERS: 'k:9092' }).postmortem.timeZone).toBe('Europe/Berlin');
    expect(() => parseConfig('postmortem:\n  timeZone: Europe/Berln\n', { KAFKA_BROKERS: 'k:9092' }, 'lagbot.yaml')).toThrow(
      'postmortem.timeZone: "Europe/Berln" is not a time zone: use an IANA name such as UTC, Europe/Berlin or America/New_York',
    );
    expect(() => parseConfig('postmortem:\n  zone: UTC\n', { KAFKA_BROKERS: 'k:9092' }, 'lagbot.yaml')).toThrow('postmortem.zone: unknown key (allowed: timeZone)');
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

  it('shows the broken YAML line with a caret, at the line to fix', () => {
    const problem = (text: string) => {
      try {
        parseConfig(text, {}, 'f.yaml');
      } catch (error) {
        return (error as Error).message;
      }
      throw new Error('expected a ConfigError');
    };
    // An unclosed bracket is noticed where the text ends; the line to fix is the one that opened it.
    expect(problem('kafka:\n  brokers: [a:1\n')).toBe(
      [
        'f.yaml: not valid YAML at line 2, column 16: Flow sequence in block collection must be sufficiently indented and end with a ]',
        '  2 |   brokers: [a:1',
        '    |                ^',
      ].join('\n'),
    );
    expect(problem('kafka:\n brokers: x\n  clientId: y\n')).toBe(
      ['f.yaml: not valid YAML at line 2, column 11: Nested mappings are not allowed in compact mappings', '  2 |  brokers: x', '    |           ^'].join('\n'),
    );
  });

  it('refuses thresholds that contradict each other, naming the keys', () => {
    const env = { KAFKA_BROKERS: 'a:1' };
    expect(() => parseConfig('thresholds:\n  critical: { lag: 3000000 }\n', env, 'f.yaml')).toThrow(
      'f.yaml: thresholds.critical.lag (3,000,000) must be below the default page line (2,000,000)',
    );
    expect(() => parseConfig('thresholds:\n  warning: { lag: 500000 }\n', env, 'f.yaml')).toThrow('thresholds.warning.lag (500,000) must be below the default critical line');
    expect(() => parseConfig('groups:\n  - match: "x-*"\n    thresholds: { critical: { lag: 10000 } }\n', env, 'f.yaml')).toThrow(
      'the default warning line (50,000) must be below groups[0] (match "x-*") thresholds.critical.lag (10,000)',
    );
    // Lines in order, each inherited from where it is set: fine.
    expect(() => parseConfig('thresholds:\n  warning: { lag: 10 }\ngroups:\n  - match: "x-*"\n    thresholds: { critical: { lag: 20 }, page: { lag: 30 } }\n', env)).not.toThrow();
  });

  it('takes staleness lines in seconds per level and per group, refusing ones out of order', async () => {
    const { AlertingPolicy } = await import('../../src/config/alerting.js');
    const env = { KAFKA_BROKERS: 'a:1' };
    const parsed = parseConfig('thresholds:\n  warning: { seconds: 60 }\ngroups:\n  - match: "payments-*"\n    thresholds: { warning: { seconds: 5, lag: 100 }, critical: { seconds: 30 } }\ncheck:\n  idleAfterMinutes: 10\n', env);
    const policy = new AlertingPolicy(parsed, parsed.clusters);
    const global = policy.forGroup(ref('orders')).rules;
    expect(global.thresholds.warning).toEqual({ lag: 50_000, growingForMs: 300_000, seconds: 60 });
    expect(global.thresholds.critical.seconds).toBeNull();
    expect(global.staleness).toEqual({ idleAfterMs: 600_000 });
    const payments = policy.forGroup(ref('payments-ledger')).rules;
    expect(payments.thresholds.warning).toMatchObject({ lag: 100, seconds: 5 });
    expect(payments.thresholds.critical.seconds).toBe(30);
    expect(() => parseConfig('thresholds:\n  warning: { seconds: 600 }\n  page: { seconds: 300 }\n', env, 'f.yaml')).toThrow(
      'f.yaml: thresholds.warning.seconds (600 s) must be below thresholds.page.seconds (300 s)',
    );
    expect(() => parseConfig('thresholds:\n  warning: { seconds: 60 }\ngroups:\n  - match: "x-*"\n    thresholds: { critical: { seconds: 30 } }\n', env, 'f.yaml')).toThrow(
      'thresholds.warning.seconds (60 s) must be below groups[0] (match "x-*") thresholds.critical.seconds (30 s)',
    );
    expect(() => parseConfig('thresholds:\n  warning: { seconds: -1 }\n', env, 'f.yaml')).toThrow(/thresholds\.warning\.seconds/);
  });

  it('keeps its store in SQLite by default, in PostgreSQL with store.url, and refuses both at once, naming the keys', () => {
    const env = { KAFKA_BROKERS: 'k:9092' };
    expect(storeTarget(parseConfig('', env).store)).toEqual({ kind: 'sqlite', path: 'lagbot.db' });
    expect(storeTarget(parseConfig('store:\n  path: /var/lib/lagbot/lagbot.db\n', env).store)).toEqual({ kind: 'sqlite', path: '/var/lib/lagbot/lagbot.db' });
    expect(storeTarget(parseConfig('store:\n  url: postgres://lagbot@db.internal:5432/lagbot\n', env).store)).toEqual({ kind: 'postgres', url: 'postgres://lagbot@db.internal:5432/lagbot' });
    expect(() => parseConfig('store:\n  path: lagbot.db\n  url: postgres://lagbot@db:5432/lagbot\n', env, 'lagbot.yaml')).toThrow(
      /store: store\.path \(SQLite\) and store\.url \(PostgreSQL\) name two different stores/,
    );
    expect(() => parseConfig('store:\n  url: postgres://lagbot:hunter2@db:5432/lagbot\n', env)).toThrow(/store\.url: no password in the URL: lagbot reads it from the PGPASSWORD environment variable/);
    expect(() => parseConfig('store:\n  url: mysql://lagbot@db:3306/lagbot\n', env)).toThrow(/store\.url: a postgres:\/\/ URL/);
    expect(() => parseConfig('store:\n  url: postgres://lagbot@db:5432\n', env)).toThrow(/store\.url: name the database at the end of the URL/);
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

describe('alerting configuration', () => {
  const env = { KAFKA_BROKERS: 'a:1' };
  const yaml = [
    'alerting:',
    '  channel: C0ALERTS',
    '  oncall: [S0ONCALL]',
    'thresholds:',
    '  warning: { lag: 10000 }',
    'watch:',
    '  exclude: ["_*", "connect-*"]',
    'groups:',
    '  - match: "payments-*"',
    '    channel: C0PAY',
    '    thresholds: { critical: { lag: 50000 }, page: { lag: 100000 } }',
    '    signals: { raise: { stalled: critical }, slowConsumerRatio: 0.5 }',
  ].join('\n');

  it('defaults to the case study thresholds and a 30-second check', async () => {
    const { AlertingPolicy } = await import('../../src/config/alerting.js');
    const parsed = parseConfig('', env);
    const policy = new AlertingPolicy(parsed, parsed.clusters);
    const g = policy.forGroup(ref('user-events-consumer'));
    expect(g.rules.thresholds).toEqual({
      warning: { lag: 50_000, growingForMs: 300_000, seconds: null },
      critical: { lag: 500_000, doublingWithinMs: 600_000, seconds: null },
      page: { lag: 2_000_000, seconds: null },
    });
    expect(g.channel).toBeNull();
    expect(policy.config.check.schedule).toBe('*/30 * * * * *');
    expect(policy.watches(ref('anything'))).toBe(true);
  });

  it('applies global settings, then the first matching group override', async () => {
    const { AlertingPolicy } = await import('../../src/config/alerting.js');
    const parsed = parseConfig(yaml, env);
    const policy = new AlertingPolicy(parsed, parsed.clusters);
    const oncall = { startsAt: 'page', repeat: null, levels: [{ notify: ['S0ONCALL'], waitMs: 15 * 60_000 }] };
    expect(policy.forGroup(ref('orders'))).toMatchObject({ channel: 'C0ALERTS', incident: { escalation: oncall } });
    expect(policy.forGroup(ref('orders')).rules.thresholds.warning.lag).toBe(10_000);
    const pay = policy.forGroup(ref('payments-eu'));
    expect(pay).toMatchObject({ channel: 'C0PAY', incident: { escalation: oncall } });
    expect(pay.rules.thresholds.page.lag).toBe(100_000);
    expect(pay.rules.thresholds.warning.lag).toBe(10_000);
    expect(pay.rules.signals.raise).toEqual({ stalled: 'critical' });
    expect(pay.rules.signals).toMatchObject({ slowConsumerRatio: 0.5, trafficSpikeRatio: 2 });
    expect(policy.forGroup(ref('orders')).rules.signals).toMatchObject({ slowConsumerRatio: 0.25, trafficSpikeRatio: 2, rateWindowMs: 120_000 });
    expect(policy.watches(ref('connect-sink'))).toBe(false);
    expect(policy.watches(ref('__consumer_offsets_reader'))).toBe(false);
  });

  it('gives the findings the rate window of check.rateWindowMinutes, for every group', async () => {
    const { AlertingPolicy } = await import('../../src/config/alerting.js');
    const parsed = parseConfig(`check:\n  rateWindowMinutes: 5\n${yaml.split('\n').filter((l) => !l.startsWith('check')).join('\n')}`, env);
    const policy = new AlertingPolicy(parsed, parsed.clusters);
    expect(policy.findingSettings.rateWindowMs).toBe(300_000);
    expect(policy.forGroup(ref('payments-eu')).rules.signals.rateWindowMs).toBe(300_000);
  });

  it('names bad alerting values and what is allowed', () => {
    expect(() => parseConfig('alerting:\n  channel: "#alerts"\n', env)).toThrow(/alerting\.channel: a channel id such as C0123ABCD/);
    expect(() => parseConfig('check:\n  schedule: "every minute"\n', env)).toThrow(/check\.schedule: a node-cron expression/);
    expect(() => parseConfig('signals:\n  slowConsumerRatio: 1.5\n', env)).toThrow(/signals\.slowConsumerRatio: a share above 0 and below 1/);
    expect(() => parseConfig('signals:\n  trafficSpikeRatio: 0.5\n', env)).toThrow(/signals\.trafficSpikeRatio: a factor above 1/);
    expect(() => parseConfig('signals:\n  raise: { stalled: urgent }\n', env)).toThrow(/signals\.raise\.stalled: .*"warning"\|"critical"\|"page"/);
    expect(() => parseConfig('groups:\n  - match: x\n    thresholdz: {}\n', env)).toThrow(/groups\.0\.thresholdz: unknown key \(allowed: match, cluster, channel, oncall, escalation, thresholds, signals, access\)/);
    expect(() => parseConfig('alerting:\n  oncall: [oncall-team]\n', env)).toThrow(/alerting\.oncall\.0: a user group id/);
  });
});

describe('clusters', () => {
  const yaml = `
clusters:
  - name: prod-eu
    brokers: [b1.prod-eu:9093, b2.prod-eu:9093]
    ssl:
      ca: /etc/lagbot/prod-eu-ca.pem
      cert: /etc/lagbot/lagbot.pem
      key: /etc/lagbot/lagbot.key
      passphraseEnv: LAGBOT_KEY_PASSPHRASE
      servername: kafka.prod-eu.internal
    sasl:
      mechanism: scram-sha-512
      username: lagbot
      passwordEnv: KAFKA_PROD_EU_PASSWORD
    watch: { include: ["*"], exclude: ["connect-*"] }
    channel: C0123PRODEU
  - name: staging
    brokers: [staging-kafka:9092]
    ssl: true
alerting:
  channel: C0ALERTS
groups:
  - cluster: staging
    channel: C0STAGING
  - match: "payments-*"
    cluster: "prod-*"
    oncall: [S0PAYMENTS]
`;
  const env = { KAFKA_PROD_EU_PASSWORD: 'pw', LAGBOT_KEY_PASSPHRASE: 'phrase' };

  it('reads every cluster with its TLS, SASL secret from the named variable, watch list and channel', () => {
    const config = parseConfig(yaml, env, 'lagbot.yaml');
    expect(config.clusters).toEqual([
      {
        name: 'prod-eu',
        brokers: ['b1.prod-eu:9093', 'b2.prod-eu:9093'],
        clientId: 'lagbot',
        tls: { ca: '/etc/lagbot/prod-eu-ca.pem', cert: '/etc/lagbot/lagbot.pem', key: '/etc/lagbot/lagbot.key', passphrase: 'phrase', servername: 'kafka.prod-eu.internal' },
        sasl: { mechanism: 'scram-sha-512', username: 'lagbot', password: 'pw' },
        connectionTimeoutMs: 3_000,
        requestTimeoutMs: 10_000,
        readDeadlineMs: 8_000,
        flexibleRequests: true,
        watch: { include: ['*'], exclude: ['connect-*'] },
        channel: 'C0123PRODEU',
      },
      expect.objectContaining({ name: 'staging', tls: {}, sasl: null, watch: null, channel: null }),
    ]);
  });

  it('routes by cluster: its watch list, its channel, and groups rules that match on cluster', async () => {
    const { AlertingPolicy } = await import('../../src/config/alerting.js');
    const config = parseConfig(yaml, env);
    const policy = new AlertingPolicy(config, config.clusters);
    expect(policy.watches({ cluster: 'prod-eu', group: 'connect-sink' })).toBe(false);
    expect(policy.watches({ cluster: 'staging', group: 'connect-sink' })).toBe(true);
    expect(policy.forGroup({ cluster: 'prod-eu', group: 'orders' }).channel).toBe('C0123PRODEU');
    expect(policy.forGroup({ cluster: 'staging', group: 'orders' }).channel).toBe('C0STAGING');
    expect(policy.forGroup({ cluster: 'prod-eu', group: 'payments-ledger' })).toMatchObject({ channel: 'C0123PRODEU', incident: { escalation: { levels: [{ notify: ['S0PAYMENTS'] }] } } });
    expect(policy.forGroup({ cluster: 'staging', group: 'payments-ledger' }).incident.escalation.levels).toEqual([]);
    expect(policy.channelFor('prod-eu')).toBe('C0123PRODEU');
    expect(policy.channelFor('staging')).toBe('C0ALERTS');
  });

  it('refuses what contradicts itself or is missing, all at once', () => {
    const bad = `
kafka:
  brokers: [a:1]
clusters:
  - name: prod-eu
    brokers: [a:1]
    sasl: { mechanism: plain, username: u, passwordEnv: PROD_PW }
  - name: prod-eu
    brokers: [b:1]
    sasl: { mechanism: oauthbearer, tokenEndpoint: "https://idp.example/token", clientId: lagbot, clientSecretEnv: IDP_SECRET }
`;
    let message = '';
    try {
      parseConfig(bad, { KAFKA_BROKERS: 'c:1' }, 'lagbot.yaml');
    } catch (error) {
      message = (error as ConfigError).message;
    }
    expect(message.split('\n')).toEqual([
      'lagbot.yaml: kafka and clusters are both set: list every cluster under clusters (kafka is the one-cluster form)',
      'KAFKA_BROKERS is set, but lagbot.yaml lists clusters: set each cluster\'s brokers in the file (KAFKA_BROKERS is for the one-cluster form)',
      'lagbot.yaml: clusters: the name "prod-eu" is used twice; each cluster needs its own name',
      'lagbot.yaml: clusters[0] (prod-eu).sasl.passwordEnv: the environment variable PROD_PW is not set',
      'lagbot.yaml: clusters[1] (prod-eu).sasl.clientSecretEnv: the environment variable IDP_SECRET is not set',
    ]);
  });

  it('names bad cluster values by their keys', () => {
    expect(() => parseConfig('clusters:\n  - name: Prod_EU\n    brokers: [a:1]\n', {})).toThrow(/clusters\.0\.name: lower-case letters, digits and dashes/);
    expect(() => parseConfig('clusters:\n  - name: p\n    brokers: [a:1]\n    ssl: { cert: /c.pem }\n', {})).toThrow(/clusters\.0\.ssl: cert and key go together/);
    expect(() => parseConfig('clusters:\n  - name: p\n    brokers: [a:1]\n    sasl: { mechanism: gssapi }\n', {})).toThrow(/clusters\.0\.sasl\.mechanism/);
    expect(() => parseConfig('groups:\n  - oncall: [S0X]\n', { KAFKA_BROKERS: 'a:1' })).toThrow(/groups\.0: a groups entry needs match \(a group glob\), cluster \(a cluster glob\), or both/);
  });

  it('refuses settings that can never work or would leak a secret', () => {
    const one = (entry: string, extra = '') => () => parseConfig(`clusters:\n  - name: p\n    brokers: [a:1]\n${entry}${extra}`, { PW: 'x', SECRET: 'y' });
    expect(() => parseConfig('clusters:\n  - name: default\n    brokers: [a:1]\n', {})).toThrow(/clusters\.0\.name: "default" is the unnamed cluster/);
    expect(one('    sasl: { mechanism: aws-msk-iam, region: eu-west-1 }\n')).toThrow(/clusters\.0\.ssl: sasl aws-msk-iam needs ssl/);
    expect(one('    ssl: true\n    sasl: { mechanism: aws-msk-iam, region: eu-west-1 }\n')).not.toThrow();
    const oauth = (url: string) => one(`    ssl: true\n    sasl: { mechanism: oauthbearer, tokenEndpoint: "${url}", clientId: c, clientSecretEnv: SECRET }\n`);
    expect(oauth('http://sso.example.com/token')).toThrow(/tokenEndpoint: an https:\/\/ URL/);
    expect(oauth('https://u:pw@sso.example.com/token')).toThrow(/tokenEndpoint: no user or password in the URL/);
    expect(oauth('http://127.0.0.1:8080/token')).not.toThrow();
    // One cluster's password variable is never another's by default.
    expect(one('    sasl: { mechanism: plain, username: u }\n')).toThrow(/clusters\[0\] \(p\)\.sasl\.passwordEnv: required: the environment variable that holds u's password/);
    expect(one('', 'groups:\n  - cluster: "prd-*"\n    oncall: [S0X]\n')).toThrow(/groups\[0\] \(cluster "prd-\*"\): the cluster glob matches none of the clusters \(p\)/);
  });

  it('keeps the one-cluster kafka section, named default, with KAFKA_SASL_PASSWORD', () => {
    const config = parseConfig('kafka:\n  sasl: { mechanism: scram-sha-256, username: lagbot }\n  ssl: true\n', { KAFKA_BROKERS: 'k:9093', KAFKA_SASL_PASSWORD: 'pw' });
    expect(config.clusters).toEqual([expect.objectContaining({ name: 'default', brokers: ['k:9093'], tls: {}, sasl: { mechanism: 'scram-sha-256', username: 'lagbot', password: 'pw' } })]);
  });
});

describe('escalation policies in the configuration', () => {
  const env = { KAFKA_BROKERS: 'a:1' };
  const MIN = 60_000;
  const policyFor = async (yaml: string, group = 'orders') => {
    const { AlertingPolicy } = await import('../../src/config/alerting.js');
    const parsed = parseConfig(yaml, env);
    return new AlertingPolicy(parsed, parsed.clusters).forGroup(ref(group)).incident.escalation;
  };
  const twoLevels = [
    '  escalation:',
    '    startsAt: critical',
    '    repeat: 2',
    '    levels:',
    '      - { notify: [S0PRIMARY], waitMinutes: 5 }',
    '      - { notify: [U0LEAD, here], waitMinutes: 10 }',
  ].join('\n');

  it('reads levels, waits, the repeat count and the starting severity; startsAt defaults to page and repeat to 0', async () => {
    expect(await policyFor(`alerting:\n${twoLevels}\n`)).toEqual({
      startsAt: 'critical',
      repeat: 2,
      levels: [
        { notify: ['S0PRIMARY'], waitMs: 5 * MIN },
        { notify: ['U0LEAD', 'here'], waitMs: 10 * MIN },
      ],
    });
    expect(await policyFor('alerting:\n  escalation:\n    levels: [{ notify: [S0X], waitMinutes: 1 }]\n')).toEqual({ startsAt: 'page', repeat: 0, levels: [{ notify: ['S0X'], waitMs: MIN }] });
    expect(await policyFor('alerting:\n  escalation:\n    repeat: forever\n    levels: [{ notify: [S0X], waitMinutes: 1 }]\n')).toMatchObject({ repeat: null });
  });

  it('turns oncall and renotifyMinutes into one level from page, repeated until acknowledged; no oncall, no policy', async () => {
    expect(await policyFor('alerting:\n  oncall: [S0ONCALL, U0ME]\n  renotifyMinutes: 20\n')).toEqual({ startsAt: 'page', repeat: null, levels: [{ notify: ['S0ONCALL', 'U0ME'], waitMs: 20 * MIN }] });
    expect(await policyFor('alerting:\n  oncall: [S0ONCALL]\n')).toMatchObject({ levels: [{ waitMs: 15 * MIN }] });
    expect(await policyFor('')).toEqual({ startsAt: 'page', repeat: 0, levels: [] });
  });

  it('gives a groups rule its own policy or oncall, and the default policy otherwise', async () => {
    const yaml = [
      'alerting:',
      twoLevels,
      'groups:',
      '  - match: "payments-*"',
      '    oncall: [S0PAY]',
      '  - match: "search-*"',
      '    escalation: { levels: [{ notify: [U0SEARCH], waitMinutes: 3 }] }',
      '  - match: "billing-*"',
      '    channel: C0BILLING',
    ].join('\n');
    expect(await policyFor(yaml, 'payments-eu')).toEqual({ startsAt: 'page', repeat: null, levels: [{ notify: ['S0PAY'], waitMs: 15 * MIN }] });
    expect(await policyFor(yaml, 'search-api')).toEqual({ startsAt: 'page', repeat: 0, levels: [{ notify: ['U0SEARCH'], waitMs: 3 * MIN }] });
    expect(await policyFor(yaml, 'billing-run')).toMatchObject({ startsAt: 'critical', repeat: 2 });
  });

  it('refuses oncall beside escalation, renotifyMinutes beside escalation, and either on one groups rule, naming the keys', () => {
    expect(() => parseConfig(`alerting:\n  oncall: [S0X]\n${twoLevels}\n`, env)).toThrow(/alerting\.oncall and alerting\.escalation are both set/);
    expect(() => parseConfig(`alerting:\n  renotifyMinutes: 5\n${twoLevels}\n`, env)).toThrow(/alerting\.renotifyMinutes and alerting\.escalation are both set/);
    expect(() => parseConfig('groups:\n  - match: "pay-*"\n    oncall: [S0X]\n    escalation: { levels: [{ notify: [S0Y], waitMinutes: 1 }] }\n', env)).toThrow(
      /groups\[0\] \(match "pay-\*"\): oncall and escalation are both set/,
    );
  });

  it('refuses a policy without levels, a level without anyone, a wait of zero, a bad target or repeat, and an unknown severity', () => {
    const bad = (escalation: string) => () => parseConfig(`alerting:\n  escalation: ${escalation}\n`, env);
    expect(bad('{ levels: [] }')).toThrow(/alerting\.escalation\.levels: an escalation policy needs at least one level/);
    expect(bad('{ startsAt: page }')).toThrow(/alerting\.escalation\.levels/);
    expect(bad('{ levels: [{ notify: [], waitMinutes: 5 }] }')).toThrow(/alerting\.escalation\.levels\.0\.notify: a level needs someone to notify/);
    expect(bad('{ levels: [{ notify: [S0X], waitMinutes: 0 }] }')).toThrow(/alerting\.escalation\.levels\.0\.waitMinutes/);
    expect(bad('{ levels: [{ notify: [S0X] }] }')).toThrow(/alerting\.escalation\.levels\.0\.waitMinutes/);
    expect(bad('{ levels: [{ notify: ["@sre"], waitMinutes: 5 }] }')).toThrow(/alerting\.escalation\.levels\.0\.notify\.0: a user group id/);
    expect(bad('{ repeat: -1, levels: [{ notify: [S0X], waitMinutes: 5 }] }')).toThrow(/alerting\.escalation\.repeat: a whole number of rounds after the first/);
    expect(bad('{ startsAt: urgent, levels: [{ notify: [S0X], waitMinutes: 5 }] }')).toThrow(/alerting\.escalation\.startsAt/);
    expect(bad('{ levels: [{ notify: [S0X], waitMinutes: 5, wait: 3 }] }')).toThrow(/alerting\.escalation\.levels\.0\.wait: unknown key/);
  });
});

describe('access', () => {
  const env = { KAFKA_BROKERS: 'k:9092' };

  it('defaults to channel members acting and everyone reading, with a minute of membership cache', () => {
    const config = parseConfig('', env);
    expect(config.access).toEqual({ membershipCacheSeconds: 60 });
    expect(accessRulesOf(config).layers).toEqual([]);
  });

  it('reads the top-level, cluster and groups sections into layers', () => {
    const yaml = `
clusters:
  - name: prod-eu
    brokers: [a:1]
    access: { snooze: [U0LEAD] }
access:
  membershipCacheSeconds: 30
  resolve: [S0SRE, channel-members]
  query: [C0SRE, S0SRE]
groups:
  - match: "payments-*"
    access: { resolve: [S0PAY], query: [C0PAY] }
`;
    const config = parseConfig(yaml, {}, 'lagbot.yaml');
    expect(config.access.membershipCacheSeconds).toBe(30);
    const rules = accessRulesOf(config);
    expect(rules.layers.map((l) => l.source)).toEqual(['', 'clusters[0] (prod-eu)', 'groups[0] (match "payments-*")']);
    expect(rules.layers[0]?.actions.resolve).toEqual([{ kind: 'usergroup', id: 'S0SRE' }, { kind: 'channel-members' }]);
    expect(rules.layers[0]?.query).toEqual([{ kind: 'channel', id: 'C0SRE' }, { kind: 'usergroup', id: 'S0SRE' }]);
    expect(rules.layers[1]).toMatchObject({ cluster: 'prod-eu', actions: { snooze: [{ kind: 'user', id: 'U0LEAD' }] } });
  });

  it('names an entry that is no user, user group or channel', () => {
    expect(() => parseConfig('access:\n  resolve: ["#sre"]\n', env, 'lagbot.yaml')).toThrow('access.resolve.0: "#sre" is not a user id (U…/W…), a user-group id (S…), channel-members or everyone');
    expect(() => parseConfig('access:\n  query: [channel-members]\n', env, 'lagbot.yaml')).toThrow('access.query.0: "channel-members" is not a channel id');
    expect(() => parseConfig('access:\n  resolv: [U0A]\n', env, 'lagbot.yaml')).toThrow('access.resolv: unknown key (allowed: acknowledge, snooze, resolve, silence, reassign, query, membershipCacheSeconds)');
  });

  it('refuses contradictions at start, naming the keys', () => {
    const yaml = `
access:
  resolve: []
  query: [everyone, C0SRE]
groups:
  - match: "payments-*"
    access: { resolve: [S0PAY] }
  - match: "payments-*"
    access: { resolve: [U0LEAD], snooze: [U0LEAD] }
`;
    let message = '';
    try {
      parseConfig(yaml, env, 'lagbot.yaml');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message.split('\n')).toEqual([
      'lagbot.yaml: access.resolve: an empty list lets nobody in; list who may, or leave the key out for the default',
      'lagbot.yaml: access.query: everyone already includes C0SRE; write either everyone or the list',
      'lagbot.yaml: groups[1] (match "payments-*").access.resolve never applies: groups[0] matches the same groups and sets access.resolve first',
    ]);
  });
});

describe("the README's access example", () => {
  it('is a valid configuration, with the layers it describes', async () => {
    const { readFileSync } = await import('node:fs');
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Who may see and do what'));
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
    const rules = accessRulesOf(parseConfig(yaml, {}, 'README.md'));
    expect(rules.layers.map((l) => l.source)).toEqual(['', 'clusters[0] (prod-eu)', 'groups[0] (match "payments-*")']);
  });
});
