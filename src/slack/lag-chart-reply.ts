import type { webApi } from '@slack/bolt';
import type { KnownBlock } from '@slack/types';
import { historyChart } from '../core/chart.js';
import type { LagRequest } from '../core/command.js';
import { answerLag, type FoundGroup } from '../core/lag-query.js';
import { codeSpan, escapeSlack, truncate } from '../core/slack-escape.js';
import { LIMITS, context, header, section } from '../views/blocks.js';
import { chartFile } from '../views/chart-file.js';
import { lagAnswerMessage, type SlackMessage } from '../views/lag-message.js';
import { onCluster } from '../views/text-style.js';
import type { LagAnswerDeps } from './lag-reply.js';
import { renderFile, uploadFile } from './file-upload.js';

/**
 * `/lag GROUP chart`: the group's last hour from the monitor's history, as a PNG. A slash
 * command's response cannot carry a file, so the chart is uploaded privately (shared in no
 * channel: the answer stays the caller's alone, like every `/lag` answer) and shown by its
 * file id in an image block of the ephemeral response.
 */

const UPLOAD_TIMEOUT_MS = 10_000;

function noHistoryMessage(found: FoundGroup): SlackMessage {
  const { group, cluster } = found.lag;
  const text = `No chart of ${codeSpan(group)}${onCluster(cluster)} yet: lagbot has no history of it. The monitor samples every watched group at each scheduled check; ask again after two checks (or is the group outside \`alerting\`'s watch list?).`;
  return { text: truncate(text, LIMITS.fallbackText), blocks: [section(text)] };
}

export async function lagChartReply(request: Extract<LagRequest, { kind: 'group' }>, deps: LagAnswerDeps, client: webApi.WebClient): Promise<SlackMessage> {
  const answer = await answerLag(request, deps.query);
  if (answer.kind !== 'group') return lagAnswerMessage(answer);
  // A group in several clusters: the first configured one, named in the title; `in CLUSTER` picks another.
  const found = answer.found[0] as FoundGroup;
  const thresholds = deps.query.chartThresholds?.(found.lag) ?? [];
  const chart = historyChart(found.lag, found.history ?? [], thresholds);
  if (!chart || chart.points.length < 2) return noHistoryMessage(found);

  const where = `${found.lag.group}${found.lag.cluster === 'default' ? '' : ` on ${found.lag.cluster}`}`;
  const file = chartFile(chart, `Lag of ${where}, last hour`);
  const uploaded = await uploadFile(client, await renderFile(file), { channel: null, threadTs: null }, { timeoutMs: UPLOAD_TIMEOUT_MS });
  const others = answer.found.length > 1 ? ` Also in ${answer.found.slice(1).map((f) => escapeSlack(f.lag.cluster)).join(', ')}: add \`in CLUSTER\`.` : '';
  const blocks: KnownBlock[] = [
    header(`Lag chart: ${found.lag.group}${onCluster(found.lag.cluster)}`),
    { type: 'image', slack_file: { id: uploaded.fileId }, alt_text: truncate(file.title, 2000), title: { type: 'plain_text', text: truncate(file.title, 2000) } },
    context(`Last hour, ${chart.points.length} checks, times in UTC · produce and consume rates below the lag.${others}`),
  ];
  return { text: truncate(`Lag chart of ${codeSpan(found.lag.group)}${onCluster(found.lag.cluster)}, last hour`, LIMITS.fallbackText), blocks };
}
