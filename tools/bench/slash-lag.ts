import { performance } from 'node:perf_hooks';
import type { SlackStandin } from '../slack-standin/standin.js';
import type { ResponseRecord } from '../slack-standin/types.js';

export interface SlashLagRun {
  latenciesMs: number[];
  /** Answers that were not the group's lag (an error message, a refused post). */
  failures: string[];
}

/**
 * Time `/lag GROUP` end to end as a person sees it: from the signed request leaving
 * "Slack" to the answer arriving at the response_url, through the real Bolt app over HTTP.
 * `inFlight` commands are kept outstanding at once.
 */
export async function timeSlashLag(
  slack: SlackStandin,
  group: string,
  options: { count: number; inFlight: number; timeoutMs?: number },
): Promise<SlashLagRun> {
  const arrived = new Map<string, { record: ResponseRecord; at: number }>();
  const waiting = new Map<string, (r: { record: ResponseRecord; at: number }) => void>();
  const onResponse = (record: ResponseRecord) => {
    const entry = { record, at: performance.now() };
    const resolve = waiting.get(record.id);
    if (resolve) {
      waiting.delete(record.id);
      resolve(entry);
    } else {
      arrived.set(record.id, entry);
    }
  };
  slack.on('response', onResponse);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const latenciesMs: number[] = [];
  const failures: string[] = [];

  const one = async (): Promise<void> => {
    const started = performance.now();
    const sent = await slack.sendSlashCommand({ command: '/lag', text: group });
    if (sent.status !== 200) {
      failures.push(`HTTP ${sent.status} ${sent.body.slice(0, 200)}`);
      return;
    }
    const answer =
      arrived.get(sent.responseUrlId) ??
      (await new Promise<{ record: ResponseRecord; at: number } | null>((resolve) => {
        const timer = setTimeout(() => {
          waiting.delete(sent.responseUrlId);
          resolve(null);
        }, timeoutMs);
        waiting.set(sent.responseUrlId, (entry) => {
          clearTimeout(timer);
          resolve(entry);
        });
      }));
    arrived.delete(sent.responseUrlId);
    if (!answer) {
      failures.push(`no answer within ${timeoutMs} ms`);
      return;
    }
    const text = JSON.stringify(answer.record.body);
    // The answer names the group, as plain text or as a code span: "`GROUP`: total lag ...".
    if (answer.record.error || !(text.includes(`${group}: total lag`) || text.includes(`\`${group}\`: total lag`))) {
      failures.push(answer.record.error ?? text.slice(0, 300));
      return;
    }
    latenciesMs.push(answer.at - started);
  };

  try {
    let next = 0;
    const worker = async () => {
      while (next < options.count) {
        next += 1;
        await one();
      }
    };
    await Promise.all(Array.from({ length: Math.min(options.inFlight, options.count) }, worker));
  } finally {
    slack.off('response', onResponse);
  }
  return { latenciesMs, failures };
}
