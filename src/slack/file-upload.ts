import type { webApi } from '@slack/bolt';
import { RendererUnavailableError, chartRenderer } from '../charts/renderer.js';
import type { SlackFile } from '../core/protocol.js';
import { slackTs } from './delivery-lookup.js';

/**
 * Slack's file upload flow (files.upload is retired): ask for an upload URL, POST the bytes
 * there, then complete the upload, which shares the file into a channel or thread. Nothing is
 * visible in Slack before the completion, so only that last call can leave a post in doubt.
 */

export interface RenderedFile {
  bytes: Buffer;
  filename: string;
  title: string;
  altText: string;
}

/**
 * The file could not be made. A chart that does not render stays so: sending it again changes
 * nothing. A renderer that was not there (it crashed, or took too long) is `retryable`.
 */
export class FileRenderError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'FileRenderError';
  }
}

/** The POST of the bytes failed. Nothing was shared, so the whole flow can simply start again. */
export class FileUploadError extends Error {
  constructor(
    message: string,
    /** An answer came back (a status): the upload URL was used up or refused. */
    readonly answered: boolean,
  ) {
    super(message);
    this.name = 'FileUploadError';
  }
}

export async function renderFile(file: SlackFile): Promise<RenderedFile> {
  try {
    if (file.kind === 'markdown') {
      return { bytes: Buffer.from(file.text, 'utf8'), filename: file.filename, title: file.title, altText: file.title };
    }
    const bytes = await chartRenderer().render(file.chart);
    return { bytes, filename: file.filename, title: file.title, altText: `Chart: ${file.title}` };
  } catch (err) {
    throw new FileRenderError(`cannot render ${file.kind} file ${file.filename}: ${err instanceof Error ? err.message : String(err)}`, err instanceof RendererUnavailableError, { cause: err });
  }
}

export interface UploadTarget {
  /** Null: a private upload, shared nowhere (a slash command's response shows it by its id). */
  channel: string | null;
  threadTs: string | null;
}

export interface Uploaded {
  fileId: string;
  /** The ts of the message that shows the file, when Slack said it already. */
  ts: string | null;
}

/**
 * Uploads the bytes and shares them. `onUploaded` runs between the POST and the completion,
 * so the caller can record the file id first: an in-doubt completion is then looked up by it.
 */
export async function uploadFile(
  client: webApi.WebClient,
  file: RenderedFile,
  target: UploadTarget,
  options: { timeoutMs: number; onUploaded?: (fileId: string) => Promise<void> },
): Promise<Uploaded> {
  const ticket = await client.files.getUploadURLExternal({ filename: file.filename, length: file.bytes.length, alt_text: file.altText });
  const { upload_url: url, file_id: fileId } = ticket;
  if (!url || !fileId) throw new FileUploadError('files.getUploadURLExternal answered ok without upload_url or file_id', true);
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', body: file.bytes, headers: { 'content-type': 'application/octet-stream' }, signal: AbortSignal.timeout(options.timeoutMs) });
  } catch (err) {
    throw new FileUploadError(`upload of ${file.filename} failed: ${err instanceof Error ? err.message : String(err)}`, false);
  }
  await response.arrayBuffer().catch(() => undefined);
  if (!response.ok) throw new FileUploadError(`upload of ${file.filename} answered HTTP ${response.status}`, true);
  await options.onUploaded?.(fileId);
  const share = target.channel === null ? {} : { channel_id: target.channel, ...(target.threadTs ? { thread_ts: target.threadTs } : {}) };
  const done = await client.files.completeUploadExternal({ files: [{ id: fileId, title: file.title }], ...share } as Parameters<webApi.WebClient['files']['completeUploadExternal']>[0]);
  return { fileId, ts: shareTs(done.files?.[0], target.channel) };
}

interface SharedFile {
  shares?: { public?: Record<string, Array<{ ts?: string }>>; private?: Record<string, Array<{ ts?: string }>> };
}

/** Slack fills a file's shares in asynchronously: often empty right after the completion. */
function shareTs(file: SharedFile | undefined, channel: string | null): string | null {
  if (!file || channel === null) return null;
  const share = file.shares?.public?.[channel]?.[0] ?? file.shares?.private?.[channel]?.[0];
  return share?.ts ?? null;
}

/**
 * The ts of the thread reply that shows the file, or null when the thread has none. Throws the
 * WebClient's error when Slack cannot be asked; the caller retries as for any call.
 */
export async function findSharedFile(
  client: webApi.WebClient,
  request: { channel: string; threadTs: string; fileId: string; notBefore: number },
): Promise<string | null> {
  let cursor: string | undefined;
  for (;;) {
    const page = await client.conversations.replies({ channel: request.channel, ts: request.threadTs, oldest: slackTs(request.notBefore), limit: 200, ...(cursor ? { cursor } : {}) });
    const found = (page.messages ?? []).find((m) => (m as { files?: Array<{ id?: string }> }).files?.some((f) => f.id === request.fileId));
    if (found?.ts) return found.ts;
    const next = page.response_metadata?.next_cursor;
    if (!page.has_more || !next || next === cursor) return null;
    cursor = next;
  }
}
