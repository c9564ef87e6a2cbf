// Markdown-lite for text panels: headings, paragraphs, lists, links, inline and fenced code,
// bold and italics. Built from DOM nodes and text only: outside text never reaches innerHTML.

import { h } from '../dom';

function inline(parent: HTMLElement, text: string): void {
  const re = /`([^`]+)`|\[([^\]]+)\]\(([^)\s]+)\)|\*\*([^*]+)\*\*|\*([^*]+)\*|_([^_]+)_/g;
  let last = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) {
    if (m.index > last) parent.append(text.slice(last, m.index));
    if (m[1] !== undefined) parent.append(h('code', null, m[1]));
    else if (m[2] !== undefined) {
      const url = m[3];
      const safe = /^(https?:|mailto:|\/|#)/i.test(url);
      parent.append(safe ? h('a', { href: url, rel: 'noopener noreferrer', 'data-link': url.startsWith('/ui/') ? true : undefined }, m[2]) : m[2]);
    } else if (m[4] !== undefined) parent.append(h('strong', null, m[4]));
    else parent.append(h('em', null, m[5] ?? m[6]));
    last = re.lastIndex;
  }
  if (last < text.length) parent.append(text.slice(last));
}

export function renderMarkdown(root: HTMLElement, src: string): void {
  const lines = src.replace(/\r\n?/g, '\n').split('\n').slice(0, 2000);
  let para: string[] = [];
  let list: HTMLElement | null = null;
  const flush = () => {
    if (para.length) {
      const p = h('p');
      inline(p, para.join(' '));
      root.append(p);
      para = [];
    }
    list = null;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (/^```/.test(line)) {
      flush();
      const code: string[] = [];
      for (i++; i < lines.length && !/^```/.test(lines[i]); i++) code.push(lines[i]);
      root.append(h('pre', null, h('code', null, code.join('\n'))));
      continue;
    }
    const hm = /^(#{1,6})\s+(.*)$/.exec(line);
    if (hm) {
      flush();
      const el = h(`h${Math.min(6, hm[1].length + 2)}` as 'h3');
      inline(el, hm[2]);
      root.append(el);
      continue;
    }
    const lm = /^\s*(?:[-*+]|\d+\.)\s+(.*)$/.exec(line);
    if (lm) {
      if (para.length) { const keep: HTMLElement | null = list; flush(); list = keep; }
      if (!list) { list = h(/^\s*\d/.test(line) ? 'ol' : 'ul'); root.append(list); }
      const li = h('li');
      inline(li, lm[1]);
      list.append(li);
      continue;
    }
    if (!line.trim()) { flush(); continue; }
    list = null;
    para.push(line.trim());
  }
  flush();
}
