import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatCount } from '../../src/views/format.js';
import { freePorts, startKafka, type KafkaTestbed } from '../kafka-testbed/broker.js';
import { startSlackStandin, type SlackStandin } from '../slack-standin/standin.js';
import { DEMO_CHANNEL, DEMO_ONCALL, DEMO_THRESHOLDS, demoYaml } from './demo-config.js';
import { LagbotProcess } from './lagbot-process.js';
import { CASE_STUDY, playScenario, type ScenarioRun } from './scenario.js';
import { DemoWorld } from './world.js';

export interface DemoOptions {
  /** Port of the Slack playground page; 0 picks a free one. */
  port?: number;
  /** 2 plays the scenario twice as fast. */
  speed?: number;
  /** Use this cluster instead of starting a local broker. */
  kafkaBrokers?: string[];
  log?: (line: string) => void;
}

export interface RunningDemo {
  /** The Slack playground page. */
  url: string;
  slack: SlackStandin;
  lagbot: LagbotProcess;
  world: DemoWorld;
  scenario: ScenarioRun;
  stop(): Promise<void>;
}

const SIGNING_SECRET = 'lagbot-demo-signing-secret';

/**
 * Everything the demo needs, started in order and stopped in reverse: a real Kafka
 * broker, the case study's topic and consumer group, the Slack playground, the real
 * lagbot process, and the scenario that plays the incident.
 */
export async function runDemo(options: DemoOptions = {}): Promise<RunningDemo> {
  const log = options.log ?? ((line: string) => console.log(line));
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((e: unknown) => log(`while stopping: ${(e as Error).message}`));
  };
  try {
    let brokers = options.kafkaBrokers;
    if (!brokers) {
      log('Starting Kafka (the first run downloads its jars from Maven Central, about 130 MB)...');
      // The test bed's own progress lines (jar download, readiness), not the broker's log.
      const kafka: KafkaTestbed = await startKafka({ log: (line) => (line.startsWith('[kafka') ? undefined : log(`kafka: ${line}`)) });
      stops.push(() => kafka.stop());
      brokers = kafka.brokers;
      log(`Kafka ${kafka.version} is up at ${kafka.bootstrap}.`);
    }

    const slack = await startSlackStandin({
      signingSecret: SIGNING_SECRET,
      channels: [DEMO_CHANNEL],
      users: [{ id: 'U0YOU', name: 'you' }],
      port: options.port ?? 0,
      playground: { channel: DEMO_CHANNEL.id, userId: 'U0YOU', userName: 'you', title: 'lagbot demo' },
    });
    stops.push(() => slack.stop());
    const t = DEMO_THRESHOLDS;
    slack.setBanner(
      `Demo: a real Kafka broker and the real lagbot, with thresholds scaled down to warning ${formatCount(t.warning)} · ` +
        `critical ${formatCount(t.critical)} · page ${formatCount(t.page)} (real defaults: 50,000 · 500,000 · 2,000,000). ` +
        `@${DEMO_ONCALL.name} is the on-call group.`,
    );

    const world = new DemoWorld(brokers);
    await world.start();
    stops.push(() => world.stop());

    const dir = await mkdtemp(join(tmpdir(), 'lagbot-demo-'));
    stops.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'lagbot.yaml'), demoYaml(join(dir, 'lagbot.db')));
    const [port] = (await freePorts(1)) as [number];
    const lagbot = new LagbotProcess({
      port,
      log,
      env: {
        LAGBOT_CONFIG: join(dir, 'lagbot.yaml'),
        KAFKA_BROKERS: brokers.join(','),
        SLACK_BOT_TOKEN: slack.botToken,
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SLACK_API_URL: slack.apiUrl,
        LOG_LEVEL: 'warn',
      },
    });
    slack.setEventsUrl(`http://127.0.0.1:${port}/slack/events`);
    await lagbot.start();
    stops.push(() => lagbot.stop());
    log(`lagbot is running (pid ${lagbot.pid}, port ${port}; /metrics and /healthz there).`);

    const scenario = playScenario(world, CASE_STUDY, options.speed ?? 1, (note) => {
      log(`scenario: ${note}`);
      slack.addNote(note);
    });
    stops.push(async () => {
      scenario.cancel();
      await scenario.done;
    });

    return { url: slack.url, slack, lagbot, world, scenario, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
