// The PromQL editor: a plain <textarea> (so typing, selection, undo and screen readers behave as
// everywhere) over a highlighted copy of its text, with a completion list driven by the keyboard
// (a combobox with aria-activedescendant). Shift+Enter or Ctrl+Enter runs the query; Enter
// accepts a completion when the list is open and inserts a newline otherwise.

import { h } from '../dom';
import { complete, insertion, type Completion } from './completion';
import { contextAt, tokenize, type CompletionContext } from './promql';

export interface EditorOptions {
  value: string;
  label: string;       // accessible name
  placeholder?: string;
  onRun: () => void;
  onChange: (value: string) => void;
  onFocus?: () => void;
}

let editorSeq = 0;
const DEBOUNCE_MS = 90;

export class QueryEditor {
  readonly el: HTMLElement;
  readonly textarea: HTMLTextAreaElement;
  private readonly overlay: HTMLElement;
  private readonly popup: HTMLElement;
  private readonly list: HTMLUListElement;
  private readonly doc: HTMLElement;
  private readonly errorBox: HTMLElement;
  private readonly id: string;
  private items: Completion[] = [];
  private active = 0;
  private ctx: CompletionContext | null = null;
  private open = false;
  private timer = 0;
  private seq = 0;
  private errorAt: number | null = null;
  private quiet = false; // an edit made by the editor itself is under way: no input handling

  constructor(private readonly opts: EditorOptions) {
    this.id = `qe${++editorSeq}`;
    this.textarea = h('textarea', {
      class: 'qe-input', spellcheck: 'false', autocomplete: 'off', autocapitalize: 'off', rows: 1,
      'aria-label': opts.label, placeholder: opts.placeholder ?? '', role: 'combobox', 'aria-autocomplete': 'list',
      'aria-expanded': 'false', 'aria-controls': `${this.id}-list`, 'aria-describedby': `${this.id}-err`,
    });
    this.textarea.value = opts.value;
    this.overlay = h('pre', { class: 'qe-hl', 'aria-hidden': 'true' });
    this.list = h('ul', { class: 'qe-list', id: `${this.id}-list`, role: 'listbox', 'aria-label': 'Completions' });
    this.doc = h('div', { class: 'qe-doc' });
    this.popup = h('div', { class: 'qe-popup', hidden: true }, this.list, this.doc);
    this.errorBox = h('div', { class: 'qe-error', id: `${this.id}-err`, role: 'alert', hidden: true });
    this.el = h('div', { class: 'qe' }, h('div', { class: 'qe-box' }, this.overlay, this.textarea), this.popup, this.errorBox);

    this.textarea.addEventListener('input', () => { if (!this.quiet) this.onInput(); });
    this.textarea.addEventListener('keydown', (e) => this.onKey(e));
    this.textarea.addEventListener('blur', () => this.close());
    this.textarea.addEventListener('focus', () => opts.onFocus?.());
    this.textarea.addEventListener('click', () => { if (this.open) this.schedule(false); });
    // Clicking an item must not blur the textarea first.
    this.list.addEventListener('mousedown', (e) => e.preventDefault());
    this.list.addEventListener('click', (e) => {
      const li = (e.target as Element).closest('li[data-index]') as HTMLElement | null;
      if (li) this.accept(parseInt(li.dataset.index!, 10));
    });
    this.highlight();
    requestAnimationFrame(() => this.fitHeight());
  }

  get value(): string { return this.textarea.value; }

  setValue(v: string): void {
    this.textarea.value = v;
    this.setError(null);
    this.highlight();
    this.fitHeight();
    this.opts.onChange(v);
  }

  // Inserts text at the cursor (the metrics browser, history).
  insertAtCursor(text: string): void {
    const t = this.textarea;
    t.focus();
    this.edit(t.selectionStart, t.selectionEnd, text, t.selectionStart + text.length);
  }

  focus(): void { this.textarea.focus(); }

  // Shows a parse error under the editor and marks its place in the text (message "line:col: ...").
  setError(message: string | null, offset: number | null = null): void {
    // the same error again (a refresh) changes nothing, so the alert is not announced again
    if ((message ?? '') === this.errorBox.textContent && (message ? offset : null) === this.errorAt) return;
    this.errorAt = message ? offset : null;
    this.errorBox.hidden = !message;
    this.errorBox.textContent = message ?? '';
    this.textarea.setAttribute('aria-invalid', message ? 'true' : 'false');
    this.highlight();
  }

  private onInput(autoOpen = true): void {
    if (!this.errorBox.hidden) this.setError(null);
    this.highlight();
    this.fitHeight();
    this.opts.onChange(this.textarea.value);
    if (autoOpen) this.schedule(false);
  }

  private fitHeight(): void {
    const t = this.textarea;
    t.style.height = 'auto';
    t.style.height = `${t.scrollHeight + 2}px`;
  }

  // Renders the highlighted copy of the text (text nodes only: no markup from the query).
  private highlight(): void {
    const text = this.textarea.value;
    const frag = document.createDocumentFragment();
    const err = this.errorAt;
    for (const tok of tokenize(text)) {
      if (err !== null && err >= tok.start && err < tok.end) {
        // split the token around the error's place
        if (err > tok.start) frag.append(span(tok.type, text.slice(tok.start, err)));
        frag.append(span('error-pos', text[err]));
        if (err + 1 < tok.end) frag.append(span(tok.type, text.slice(err + 1, tok.end)));
        continue;
      }
      frag.append(tok.type === 'ws' ? document.createTextNode(tok.text) : span(tok.type, tok.text));
    }
    if (err !== null && err >= text.length) frag.append(span('error-pos', ' '));
    frag.append('\n');
    this.overlay.replaceChildren(frag);
  }

  private onKey(e: KeyboardEvent): void {
    if (e.key === 'Enter' && (e.shiftKey || e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      this.close();
      this.opts.onRun();
      return;
    }
    if (e.key === ' ' && e.ctrlKey) {
      e.preventDefault();
      this.schedule(true);
      return;
    }
    if (!e.ctrlKey && !e.metaKey && !e.altKey && this.autoClose(e.key)) {
      e.preventDefault();
      return;
    }
    if (!this.open) return;
    switch (e.key) {
      case 'ArrowDown': e.preventDefault(); this.move(1); break;
      case 'ArrowUp': e.preventDefault(); this.move(-1); break;
      case 'PageDown': e.preventDefault(); this.move(8); break;
      case 'PageUp': e.preventDefault(); this.move(-8); break;
      case 'Enter': case 'Tab': e.preventDefault(); this.accept(this.active); break;
      case 'Escape': e.preventDefault(); e.stopPropagation(); this.close(); break;
      case 'ArrowLeft': case 'ArrowRight': case 'Home': case 'End': this.close(); break;
    }
  }

  // Typing an opening bracket adds its closing one (when nothing but space or a closer follows);
  // typing a closer just before the same closer steps over it. Returns true when it handled the key.
  private autoClose(key: string): boolean {
    const t = this.textarea;
    if (t.selectionStart !== t.selectionEnd) return false;
    const at = t.selectionStart;
    const next = t.value[at] ?? '';
    const pairs: Record<string, string> = { '(': ')', '[': ']', '{': '}' };
    if (pairs[key] && (next === '' || /[\s)\]},]/.test(next))) {
      this.edit(at, at, key + pairs[key], at + 1);
      this.schedule(false);
      return true;
    }
    if ((key === ')' || key === ']' || key === '}') && next === key) {
      t.setSelectionRange(at + 1, at + 1);
      this.close();
      return true;
    }
    return false;
  }

  // Replaces [from, to) with text through the browser's editing commands where it has them, so
  // undo (Ctrl+Z) works, then puts the cursor at `cursor`.
  private edit(from: number, to: number, text: string, cursor: number): void {
    const t = this.textarea;
    t.setSelectionRange(from, to);
    this.quiet = true;
    let done = false;
    try {
      done = document.execCommand('insertText', false, text);
    } catch {
      done = false;
    }
    this.quiet = false;
    if (!done) t.setRangeText(text, from, to, 'end');
    t.setSelectionRange(cursor, cursor);
    this.onInput(false);
  }

  // Works out the context at the cursor and fetches its completions after a short pause, dropping
  // answers that arrive after a newer keystroke.
  private schedule(explicit: boolean): void {
    window.clearTimeout(this.timer);
    const t = this.textarea;
    if (t.selectionStart !== t.selectionEnd) { this.close(); return; }
    const cursor = t.selectionStart;
    const ctx = contextAt(t.value, cursor);
    const wanted = explicit || ctx.kind === 'labelName' || ctx.kind === 'labelValue' || ctx.kind === 'duration' ||
      ctx.kind === 'atModifier' || (ctx.kind === 'expression' && ctx.prefix.length > 0);
    if (!wanted || ctx.kind === 'none') { this.close(); return; }
    const seq = ++this.seq;
    this.timer = window.setTimeout(async () => {
      let items: Completion[];
      try {
        items = await complete(ctx);
      } catch {
        items = []; // completion is a help; the query's own errors show when it runs
      }
      if (seq !== this.seq || document.activeElement !== t) return;
      // Nothing to offer, or the one item is exactly what is typed already.
      if (!items.length || (items.length === 1 && 'prefix' in ctx && items[0].label === ctx.prefix)) { this.close(); return; }
      this.ctx = ctx;
      this.items = items;
      this.active = 0;
      this.show();
    }, DEBOUNCE_MS);
  }

  private show(): void {
    const frag = document.createDocumentFragment();
    this.items.forEach((c, i) => {
      const label = h('span', { class: 'qe-label' });
      let at = 0;
      for (const [a, b] of c.match ?? []) {
        if (a > at) label.append(c.label.slice(at, a));
        label.append(h('b', null, c.label.slice(a, b)));
        at = b;
      }
      label.append(c.label.slice(at));
      frag.append(h('li', { id: `${this.id}-o${i}`, role: 'option', 'data-index': i, 'aria-selected': i === this.active ? 'true' : 'false', class: `qe-item k-${c.kind}` },
        h('span', { class: 'qe-kind', 'aria-hidden': 'true' }, KIND_MARK[c.kind]), label,
        c.detail ? h('span', { class: 'qe-detail' }, c.kind === 'function' ? '' : c.detail) : null));
    });
    this.list.replaceChildren(frag);
    this.open = true;
    this.popup.hidden = false;
    this.textarea.setAttribute('aria-expanded', 'true');
    this.position();
    this.setActive(0);
  }

  private position(): void {
    const at = this.ctx && 'from' in this.ctx ? this.ctx.from : this.textarea.selectionStart;
    const rect = caretRect(this.overlay, at);
    const box = this.el.getBoundingClientRect();
    if (!rect) { this.popup.style.left = '0px'; this.popup.style.top = `${this.textarea.offsetHeight}px`; return; }
    const left = Math.max(0, Math.min(rect.left - box.left, box.width - 320));
    this.popup.style.left = `${left}px`;
    this.popup.style.top = `${rect.bottom - box.top + 2}px`;
  }

  private move(d: number): void {
    if (!this.items.length) return;
    const n = this.items.length;
    this.setActive(Math.abs(d) > 1 ? Math.max(0, Math.min(n - 1, this.active + d)) : (this.active + d + n) % n);
  }

  private setActive(i: number): void {
    const prev = this.list.children[this.active] as HTMLElement | undefined;
    prev?.setAttribute('aria-selected', 'false');
    this.active = i;
    const li = this.list.children[i] as HTMLElement | undefined;
    if (!li) return;
    li.setAttribute('aria-selected', 'true');
    li.scrollIntoView({ block: 'nearest' });
    this.textarea.setAttribute('aria-activedescendant', li.id);
    const c = this.items[i];
    this.doc.replaceChildren(
      c.detail ? h('div', { class: 'qe-sig' }, c.detail) : '',
      c.help ? h('div', { class: 'qe-help' }, c.help) : '',
    );
    // labels, values and durations say all in the list; functions and metrics have more to tell
    this.doc.hidden = !c.help && !['function', 'aggregation', 'keyword'].includes(c.kind);
  }

  private accept(i: number): void {
    const c = this.items[i];
    const ctx = this.ctx;
    if (!c || !ctx || !('from' in ctx)) { this.close(); return; }
    const t = this.textarea;
    const cursor = t.selectionStart;
    const after = t.value.slice(cursor);
    const ins = insertion(c, ctx, after);
    // the typed prefix is replaced (a label value up to its closing quote); text after the cursor stays
    const wordEnd = ins.replaceTo ?? cursor;
    this.close();
    this.edit(ctx.from, wordEnd, ins.text, ctx.from + ins.cursor);
    if (ins.reopen) this.schedule(true);
  }

  close(): void {
    window.clearTimeout(this.timer);
    this.seq++;
    if (!this.open) return;
    this.open = false;
    this.popup.hidden = true;
    this.list.replaceChildren();
    this.textarea.setAttribute('aria-expanded', 'false');
    this.textarea.removeAttribute('aria-activedescendant');
  }
}

const KIND_MARK: Record<string, string> = {
  metric: 'M', function: 'f', aggregation: 'Σ', keyword: 'k', label: 'L', value: 'v', duration: 'd',
};

function span(type: string, text: string): HTMLElement {
  const s = document.createElement('span');
  s.className = `t-${type}`;
  s.textContent = text;
  return s;
}

// The on-screen box of the character at `offset` in the highlighted copy.
function caretRect(root: HTMLElement, offset: number): DOMRect | null {
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  let seen = 0;
  let node = walker.nextNode() as Text | null;
  while (node) {
    const len = node.data.length;
    if (offset <= seen + len) {
      const r = document.createRange();
      const at = Math.min(offset - seen, len);
      r.setStart(node, at);
      r.setEnd(node, Math.min(at + 1, len));
      const rects = r.getClientRects();
      return rects[0] ?? r.getBoundingClientRect();
    }
    seen += len;
    node = walker.nextNode() as Text | null;
  }
  return null;
}
