import type { IncomingMessage, ServerResponse } from 'node:http';
import { stringArg } from './content.js';
import type { Directory } from './directory.js';
import { isPlainObject, sendText } from './http.js';
import type { MessageStore } from './store.js';
import type { SlackFileObject } from './types.js';

/**
 * Slack's external upload flow: `files.getUploadURLExternal` hands out a URL (served by the
 * stand-in itself), the bytes are POSTed there, and `files.completeUploadExternal` shares the
 * file as a message in a channel or thread, or keeps it private when no channel is given.
 */

const MAX_UPLOAD_BYTES = 20 * 1024 * 1024;

interface Upload {
  id: string;
  filename: string;
  length: number;
  altText: string | undefined;
  bytes: Buffer | null;
  completed: boolean;
  file: SlackFileObject | null;
}

type ApiResult = { ok: boolean; [key: string]: unknown };

const invalid = (message: string): ApiResult => ({ ok: false, error: 'invalid_arguments', response_metadata: { messages: [`[ERROR] ${message}`] } });

const MIME: Record<string, [string, string, string]> = {
  png: ['image/png', 'png', 'PNG'],
  md: ['text/markdown', 'markdown', 'Markdown (raw)'],
  txt: ['text/plain', 'text', 'Plain Text'],
};

/** Width and height from a PNG's IHDR chunk, as Slack reports `original_w`/`original_h`. */
function pngSize(bytes: Buffer): { original_w: number; original_h: number } | Record<string, never> {
  const signature = bytes.subarray(0, 8).toString('hex');
  if (signature !== '89504e470d0a1a0a' || bytes.length < 24) return {};
  return { original_w: bytes.readUInt32BE(16), original_h: bytes.readUInt32BE(20) };
}

export interface FileDeps {
  store: MessageStore;
  directory: Directory;
  bot: { userId: string; botId: string; appId: string };
  team: { id: string };
  baseUrl: () => string;
  clock: () => number;
}

export class FileUploads {
  private readonly uploads = new Map<string, Upload>();
  private count = 0;

  constructor(private readonly deps: FileDeps) {}

  /** Every file completed so far, oldest first. */
  files(): SlackFileObject[] {
    return [...this.uploads.values()].flatMap((u) => (u.file ? [structuredClone(u.file)] : []));
  }

  bytesOf(id: string): Buffer | undefined {
    return this.uploads.get(id)?.bytes ?? undefined;
  }

  getUploadURLExternal(args: Record<string, unknown>): ApiResult {
    const filename = stringArg(args, 'filename');
    if (filename === undefined || filename === '') return invalid('missing required field: filename');
    const length = Number(args.length);
    if (args.length === undefined) return invalid('missing required field: length');
    if (!Number.isInteger(length) || length <= 0) return invalid('invalid value for field: length');
    if (length > MAX_UPLOAD_BYTES) return { ok: false, error: 'file_too_large' };
    const id = `F0STANDIN${String(++this.count).padStart(4, '0')}`;
    this.uploads.set(id, { id, filename, length, altText: stringArg(args, 'alt_text'), bytes: null, completed: false, file: null });
    return { ok: true, upload_url: `${this.deps.baseUrl()}upload/${id}`, file_id: id };
  }

  /** The POST of the bytes to the upload URL: Slack answers plain text, `OK - <bytes>`. */
  async handleUpload(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const upload = this.uploads.get(id);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size <= MAX_UPLOAD_BYTES) chunks.push(chunk);
    }
    if (!upload || upload.completed) return sendText(res, 404, 'Not Found');
    if (size !== upload.length) return sendText(res, 400, `length mismatch: expected ${upload.length} bytes, got ${size}`);
    upload.bytes = Buffer.concat(chunks);
    sendText(res, 200, `OK - ${size}`);
  }

  /** GET of a file's `url_private`: the bytes (no auth here, so the playground can show them). */
  serve(res: ServerResponse, id: string): void {
    const upload = this.uploads.get(id);
    if (!upload?.bytes || !upload.file) return sendText(res, 404, 'Not Found');
    res.writeHead(200, { 'Content-Type': upload.file.mimetype, 'Content-Length': upload.bytes.length });
    res.end(upload.bytes);
  }

  completeUploadExternal(args: Record<string, unknown>): ApiResult {
    const { store, directory, bot, team } = this.deps;
    const files = args.files;
    if (files === undefined) return invalid('missing required field: files');
    if (!Array.isArray(files) || files.length === 0 || !files.every((f) => isPlainObject(f) && typeof f.id === 'string')) return invalid('invalid value for field: files');
    const uploads: Array<{ upload: Upload; title: string | undefined }> = [];
    for (const f of files as Array<{ id: string; title?: unknown }>) {
      const upload = this.uploads.get(f.id);
      if (!upload) return { ok: false, error: 'file_not_found' };
      if (upload.completed) return { ok: false, error: 'file_upload_already_completed' };
      // Completing before the bytes arrived: Slack refuses the same way.
      if (upload.bytes === null) return { ok: false, error: 'file_upload_size_mismatch' };
      uploads.push({ upload, title: typeof f.title === 'string' ? f.title : undefined });
    }
    const channelArg = stringArg(args, 'channel_id');
    const threadArg = stringArg(args, 'thread_ts');
    if (threadArg !== undefined && channelArg === undefined) return invalid('thread_ts requires channel_id');
    const channel = channelArg === undefined ? undefined : directory.resolveChannel(channelArg);
    if (channelArg !== undefined && !channel) return { ok: false, error: 'channel_not_found' };
    let threadTs: string | undefined;
    if (channel && threadArg !== undefined) {
      threadTs = store.threadRoot(channel.id, threadArg);
      if (threadTs === undefined) return { ok: false, error: 'invalid_thread_ts' };
    }

    const now = Math.floor(this.deps.clock() / 1000);
    const objects = uploads.map(({ upload, title }): SlackFileObject => {
      const ext = upload.filename.split('.').pop()?.toLowerCase() ?? '';
      const [mimetype, filetype, pretty] = MIME[ext] ?? ['application/octet-stream', 'binary', 'Binary'];
      const url = `${this.deps.baseUrl()}files/${upload.id}/${encodeURIComponent(upload.filename)}`;
      const file: SlackFileObject = {
        id: upload.id,
        created: now,
        timestamp: now,
        name: upload.filename,
        title: title ?? upload.filename,
        mimetype,
        filetype,
        pretty_type: pretty,
        user: bot.userId,
        size: upload.length,
        mode: 'hosted',
        is_external: false,
        is_public: channel !== undefined && !channel.isPrivate && !channel.isIm,
        url_private: url,
        url_private_download: `${url}?download=1`,
        permalink: `${this.deps.baseUrl()}files/${bot.userId}/${upload.id}/${encodeURIComponent(upload.filename)}`,
        ...(upload.bytes ? pngSize(upload.bytes) : {}),
        ...(upload.altText !== undefined ? { alt_txt: upload.altText } : {}),
      };
      upload.completed = true;
      upload.file = file;
      return file;
    });

    if (channel) {
      const comment = stringArg(args, 'initial_comment');
      store.post({
        channel: channel.id,
        text: comment ?? '',
        files: objects,
        upload: true,
        ...(threadTs !== undefined ? { thread_ts: threadTs } : {}),
        user: bot.userId,
        bot_id: bot.botId,
        app_id: bot.appId,
        team: team.id,
        source: 'web_api',
      });
    }
    // Slack lists the files without their shares here; they appear on files.info a moment later.
    return { ok: true, files: objects.map((f) => ({ id: f.id, title: f.title })) };
  }
}
