import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../repo-root.js';
import { createRenderer } from './render.js';

/** The page's own browser script and style, real files the linter sees; read once. */
const ASSETS = join(repoRoot(), 'tools', 'slack-standin', 'playground');
let assets: { script: string; style: string } | undefined;
function pageAssets(): { script: string; style: string } {
  assets ??= { script: readFileSync(join(ASSETS, 'page-script.js'), 'utf8'), style: readFileSync(join(ASSETS, 'page-style.css'), 'utf8') };
  return assets;
}

export interface PageOptions {
  title: string;
  /** The CSP nonce that lets the page's own script and style run. */
  nonce: string;
}

/** What the page says when someone types something other than a /lag command. */
export const COMPOSER_HINT = 'Only `/lag` works here: try `/lag user-events-consumer`, `/lag list` or `/lag help`.';
const EXAMPLE_COMMAND = '/lag user-events-consumer';

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Code inside a <script> must not contain `</script`, or the element would end there. */
function scriptSafe(code: string): string {
  return code.replace(/<\/(script)/gi, '<\\/$1');
}

/**
 * The renderer's own compiled source, so the page runs exactly what the unit tests run.
 * esbuild-based runners (tsx) wrap named functions in `__name(...)`; the stub makes that a no-op.
 */
export function rendererSource(): string {
  return `var __name = function (fn) { return fn; };\nvar renderer = (${createRenderer.toString()})();`;
}

export function playgroundPage({ title, nonce }: PageOptions): string {
  const { script: pageScript, style } = pageAssets();
  const config = JSON.stringify({ hint: COMPOSER_HINT, example: EXAMPLE_COMMAND }).replace(/</g, '\\u003c');
  const script = `(function () {\n${rendererSource()}\nvar config = ${config};\n${pageScript}\n})();`;
  const t = escapeHtml(title);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${t}</title>
<style nonce="${nonce}">${style}</style>
</head>
<body>
<div class="app">
  <nav class="sidebar" aria-label="Workspace">
    <div class="workspace" id="workspace" data-testid="title">${t}</div>
    <div class="side-label">Channels</div>
    <button class="side-item active" type="button" id="side-channel-item" data-testid="channel-tab"><span class="side-hash">#</span><span id="side-channel"></span></button>
    <div class="side-label">Apps</div>
    <button class="side-item" type="button" id="side-home-item" data-testid="home-tab"><span class="dot" id="lagbot-dot"></span><span id="lagbot-status" data-testid="lagbot-status">lagbot</span></button>
    <div class="side-foot">A local Slack stand-in: nothing here leaves this machine.</div>
  </nav>
  <main class="pane" id="home-pane" data-testid="home" hidden>
    <header class="pane-header">
      <h1>lagbot</h1><span class="home-label">Home</span>
      <span class="home-updated" id="home-updated" data-testid="home-updated"></span>
    </header>
    <div class="scroller home-scroller">
      <div class="home-empty" id="home-empty" data-testid="home-empty">lagbot has not published a Home tab for you yet.</div>
      <div id="home-blocks" data-testid="home-blocks"></div>
    </div>
  </main>
  <main class="pane" id="channel-pane">
    <header class="pane-header">
      <h1 id="channel-name" data-testid="channel-name"></h1>
      <span class="connection" id="connection" data-testid="connection" data-state="connecting">connecting…</span>
    </header>
    <div class="banner" id="banner" data-testid="banner" role="status" hidden></div>
    <ul class="notes" id="notes" data-testid="notes" hidden></ul>
    <div class="scroller" id="scroller">
      <div class="intro">
        <h2 id="intro-channel"></h2>
        This is a local copy of the channel. Type <b>${escapeHtml(EXAMPLE_COMMAND)}</b> below to ask lagbot.
      </div>
      <div id="messages" data-testid="messages" role="log" aria-live="polite"></div>
    </div>
    <form class="composer" id="composer-form" autocomplete="off">
      <div class="composer-note" id="composer-note" data-testid="composer-note" role="alert" hidden></div>
      <div class="composer-box">
        <input id="composer" data-testid="composer" type="text" aria-label="Message" spellcheck="false">
        <button class="send" type="submit" data-testid="send">Send</button>
      </div>
      <div class="composer-help">Enter sends. Only <b>/lag</b> commands are understood here; answers only you can see are marked.</div>
    </form>
  </main>
  <aside class="thread-panel" id="thread-panel" data-testid="thread-panel" aria-label="Thread" hidden>
    <header class="thread-header">
      <b>Thread</b><span class="sub" id="thread-channel"></span>
      <button class="thread-close" type="button" data-testid="thread-close" aria-label="Close thread">×</button>
    </header>
    <div class="thread-scroll" id="thread-scroll">
      <div id="thread-root"></div>
      <div class="thread-count" id="thread-count"></div>
      <div id="thread-replies" data-testid="thread-replies"></div>
    </div>
  </aside>
</div>
<div class="modal-backdrop" id="modal" data-testid="modal" hidden>
  <form class="modal" id="modal-form" role="dialog" aria-modal="true" aria-labelledby="modal-title" autocomplete="off">
    <header class="modal-header"><b id="modal-title" data-testid="modal-title"></b></header>
    <label class="modal-label" for="modal-people" id="modal-label"></label>
    <select id="modal-people" data-testid="modal-people"></select>
    <div class="modal-hint" id="modal-hint"></div>
    <div class="modal-error" id="modal-error" data-testid="modal-error" role="alert" hidden></div>
    <footer class="modal-footer">
      <button class="btn" type="button" id="modal-close" data-testid="modal-close"></button>
      <button class="btn btn-primary" type="submit" id="modal-submit" data-testid="modal-submit"></button>
    </footer>
  </form>
</div>
<script nonce="${nonce}">${scriptSafe(script)}</script>
</body>
</html>
`;
}
