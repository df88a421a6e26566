import { describe, expect, it } from 'vitest';
import { codeSpan, escapeSlack, truncate, unescapeSlack } from '../../src/core/slack-escape.js';

describe('Slack escaping', () => {
  it('escapes the three entities Slack parses', () => {
    expect(escapeSlack('<!channel> & <@U123>')).toBe('&lt;!channel&gt; &amp; &lt;@U123&gt;');
  });

  it('round-trips through unescape', () => {
    const name = 'a<b>&c&amp;';
    expect(unescapeSlack(escapeSlack(name))).toBe(name);
  });

  it('keeps names with backticks inside one code span', () => {
    expect(codeSpan('a`b')).toBe('`aˋb`');
  });

  it('truncates without cutting an entity in half', () => {
    const cut = truncate(escapeSlack('ab<cdef'), 5);
    expect(cut).toBe('ab…');
    expect(truncate('short', 10)).toBe('short');
  });
});
