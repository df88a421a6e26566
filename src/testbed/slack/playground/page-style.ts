/** The playground's look: a plain take on Slack's desktop client, no external fonts or images. */
export const PAGE_STYLE = `
*, *::before, *::after { box-sizing: border-box; }
html, body { margin: 0; height: 100%; }
body {
  font: 15px/1.46668 "Lato", "Helvetica Neue", "Liberation Sans", "DejaVu Sans", Arial, sans-serif,
    "Noto Color Emoji", "Apple Color Emoji", "Segoe UI Emoji";
  color: #1d1c1d; background: #fff;
}
button { font: inherit; }
[hidden] { display: none !important; }

.app { display: grid; grid-template-columns: 240px minmax(0, 1fr); height: 100vh; }
body.thread-open .app { grid-template-columns: 240px minmax(0, 1fr) minmax(340px, 30%); }

.sidebar { background: #3f0e40; color: #cfc3cf; display: flex; flex-direction: column; min-height: 0; }
.workspace { color: #fff; font-weight: 900; font-size: 18px; padding: 14px 16px; border-bottom: 1px solid #5d2c5d; }
.side-label { font-size: 13px; padding: 16px 16px 4px; }
.side-item { padding: 3px 16px; display: flex; align-items: center; gap: 8px; }
.side-item.active { background: #1164a3; color: #fff; font-weight: 700; }
.side-hash { opacity: 0.8; }
.side-foot { margin-top: auto; padding: 12px 16px; font-size: 12px; color: #a996a9; border-top: 1px solid #5d2c5d; }
.dot { width: 9px; height: 9px; border-radius: 50%; display: inline-block; background: #8d7a8d; flex: none; }
.dot.ok { background: #2bac76; }
.dot.down { background: #e01e5a; }

.pane { display: flex; flex-direction: column; min-width: 0; min-height: 0; }
.pane-header { display: flex; align-items: center; gap: 12px; padding: 0 20px; height: 49px; border-bottom: 1px solid #ddd; flex: none; }
.pane-header h1 { font-size: 18px; font-weight: 900; margin: 0; }
.connection { margin-left: auto; font-size: 12px; color: #616061; display: flex; align-items: center; gap: 6px; }
.connection::before { content: ""; width: 7px; height: 7px; border-radius: 50%; background: #8d7a8d; }
.connection[data-state="live"]::before { background: #2bac76; }
.connection[data-state="reconnecting"]::before, .connection[data-state="offline"]::before { background: #e8912d; }

.banner { background: #fff4cc; border-bottom: 1px solid #f2d98c; padding: 8px 20px; font-weight: 700; flex: none; }
.notes { list-style: none; margin: 0; padding: 6px 20px; background: #f4f9fd; border-bottom: 1px solid #d9e8f5; font-size: 13px; flex: none; }
.notes li { display: flex; gap: 10px; padding: 2px 0; color: #1d1c1d; }
.notes li:not(:first-child) { color: #616061; }
.note-time { color: #868686; font-variant-numeric: tabular-nums; flex: none; }

.scroller { flex: 1; overflow-y: auto; min-height: 0; padding: 8px 0 16px; }
.intro { padding: 16px 20px 12px; color: #616061; }
.intro h2 { color: #1d1c1d; font-size: 22px; margin: 0 0 4px; font-weight: 900; }

.msg { display: flex; gap: 8px; padding: 8px 20px; }
.msg:hover { background: #f8f8f8; }
.msg-ephemeral { background: #fbfaf6; }
.avatar { width: 36px; height: 36px; border-radius: 6px; flex: none; display: flex; align-items: center; justify-content: center;
  background: #4a8dbf; color: #fff; font-weight: 900; font-size: 16px; margin-top: 2px; }
.avatar-bot { background: #2a6f5f; }
.msg-body { min-width: 0; flex: 1; }
.meta { display: flex; align-items: baseline; gap: 6px; flex-wrap: wrap; }
.author { font-weight: 900; }
.badge { font-size: 10px; font-weight: 700; color: #616061; background: #e8e8e8; border-radius: 2px; padding: 0 3px; line-height: 15px; }
.time, .edited { color: #616061; font-size: 12px; }
.ephemeral-note { font-size: 13px; color: #616061; display: flex; align-items: center; gap: 4px; }
.eye { font-size: 12px; }

.content > * + * { margin-top: 6px; }
.mrkdwn, .plain { white-space: pre-wrap; overflow-wrap: anywhere; }
.mrkdwn code { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12px; color: #c01343;
  background: #f6f6f6; border: 1px solid #e3e3e3; border-radius: 3px; padding: 1px 3px; }
.mrkdwn pre { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12px; line-height: 1.5; margin: 4px 0;
  background: #f8f8f8; border: 1px solid #dddddd; border-radius: 4px; padding: 8px; white-space: pre; overflow-x: auto; }
.mrkdwn a { color: #1264a3; text-decoration: none; }
.mrkdwn a:hover { text-decoration: underline; }
.mention { color: #1264a3; background: rgba(29, 155, 209, 0.1); border-radius: 3px; padding: 0 2px; }
.mention-me, .mention-broadcast { color: #1d1c1d; background: rgba(242, 199, 68, 0.4); }
.emoji { font-family: "Noto Color Emoji", "Apple Color Emoji", "Segoe UI Emoji", sans-serif; }

.b-header { font-size: 18px; font-weight: 900; line-height: 1.33; }
.b-section { display: flex; gap: 12px; align-items: flex-start; }
.b-section-main { flex: 1; min-width: 0; }
.b-section-main > * + * { margin-top: 6px; }
.b-fields { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 8px 16px; max-width: 600px; }
.b-context { display: flex; flex-wrap: wrap; gap: 8px; font-size: 12px; color: #616061; }
.b-context .mrkdwn code { font-size: 11px; }
.b-divider { border: none; border-top: 1px solid #ddd; margin: 8px 0; }
.b-actions { display: flex; flex-wrap: wrap; gap: 8px; }
.b-unsupported, .b-image { color: #868686; font-style: italic; font-size: 13px; }

.btn { height: 28px; padding: 0 12px; border-radius: 4px; border: 1px solid rgba(29, 28, 29, 0.3); background: #fff;
  color: #1d1c1d; font-size: 13px; font-weight: 700; cursor: pointer; }
.btn:hover { background: #f8f8f8; }
.btn-primary { background: #007a5a; border-color: #007a5a; color: #fff; }
.btn-primary:hover { background: #148567; }
.btn-danger { background: #e01e5a; border-color: #e01e5a; color: #fff; }
.btn-danger:hover { background: #e23067; }
.btn:disabled { opacity: 0.5; cursor: progress; }

.link { background: none; border: none; padding: 0; color: #1264a3; cursor: pointer; font-weight: 700; font-size: 13px; }
.link:hover { text-decoration: underline; }
.broadcast-note { font-weight: 400; }
.thread-summary { display: flex; gap: 8px; align-items: baseline; margin-top: 4px; }
.last-reply { color: #616061; font-size: 12px; }

.composer { flex: none; padding: 0 20px 16px; }
.composer-box { border: 1px solid #bbbbbb; border-radius: 8px; display: flex; align-items: center; }
.composer-box:focus-within { border-color: #868686; box-shadow: 0 0 0 1px #868686; }
.composer input { flex: 1; border: none; outline: none; font: inherit; padding: 11px 12px; background: transparent; min-width: 0; }
.composer .send { margin: 4px; height: 32px; border: none; border-radius: 4px; background: #007a5a; color: #fff; font-weight: 700; padding: 0 14px; cursor: pointer; }
.composer-note { font-size: 13px; padding: 6px 2px; display: flex; gap: 6px; align-items: baseline; }
.composer-note[data-kind="error"] { color: #c01343; }
.composer-note[data-kind="hint"], .composer-note[data-kind="pending"] { color: #616061; }
.composer-help { font-size: 12px; color: #868686; padding: 4px 2px 0; }

.thread-panel { border-left: 1px solid #ddd; display: flex; flex-direction: column; min-width: 0; min-height: 0; }
.thread-header { display: flex; align-items: center; gap: 8px; padding: 0 16px; height: 49px; border-bottom: 1px solid #ddd; flex: none; }
.thread-header b { font-size: 18px; font-weight: 900; }
.thread-header .sub { color: #616061; font-size: 13px; }
.thread-close { margin-left: auto; background: none; border: none; font-size: 22px; line-height: 1; cursor: pointer; color: #616061; padding: 4px 6px; border-radius: 4px; }
.thread-close:hover { background: #f0f0f0; }
.thread-scroll { flex: 1; overflow-y: auto; min-height: 0; padding-bottom: 16px; }
.thread-count { display: flex; align-items: center; gap: 10px; color: #616061; font-size: 13px; padding: 4px 16px; }
.thread-count::after { content: ""; flex: 1; border-top: 1px solid #ddd; }
.thread-panel .msg { padding: 8px 16px; }

@media (max-width: 860px) {
  .app, body.thread-open .app { grid-template-columns: minmax(0, 1fr); grid-template-rows: minmax(0, 1fr) auto; }
  .sidebar { display: none; }
  .thread-panel { border-left: none; border-top: 2px solid #ddd; max-height: 50vh; }
}
`;
