// <parley-chat>: the customer widget. A plain custom element with an open
// shadow root and no dependencies. Every piece of user text reaches the
// DOM through textContent only.
//
// Embed with one script tag; the token comes from the site's own server
// (data-token-url) or from a function of the page (data-token-provider):
//
//   <script src="https://chat.example.com/widget.js" data-widget="persistent"
//           data-token-url="/chat/token" async></script>

import type { Message, Pending } from '../../protocol';
import { jwtClaims } from '../../protocol';
import { Chat, type ChatState, type Transcript } from './chat';
import { type Texts, fill, textsFor } from './i18n';
import { css } from './styles';

export type TokenProvider = (ctx: { widget: string }) => string | Promise<string>;

const script = typeof document !== 'undefined' ? (document.currentScript as HTMLScriptElement | null) : null;

const chatIcon =
  '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z"/></svg>';
const minIcon = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M6 9l6 6 6-6"/></svg>';

const template = `<style>${css}</style>
<section class="panel" id="panel" aria-labelledby="title" hidden>
<header><h2 id="title"></h2><button type="button" class="min" id="min">${minIcon}</button></header>
<p class="note" id="note"></p>
<p class="status" id="status" role="status"></p>
<div class="log" id="log" role="log" tabindex="0">
<button type="button" class="older" id="older" hidden></button>
<ol class="msgs" id="prev"></ol>
<p class="sep" id="ended" hidden></p>
<p class="welcome" id="welcome" hidden></p>
<ol class="msgs" id="msgs"></ol>
</div>
<p class="typing" id="typing" aria-live="polite"></p>
<div aria-live="assertive"><p class="notice" id="notice" hidden></p></div>
<form id="form" novalidate><label class="sr" for="input" id="label"></label>
<textarea id="input" rows="1" maxlength="4000" data-testid="Message"></textarea>
<button type="submit" class="send" id="send" data-testid="Send"></button></form>
<div class="foot" id="foot" hidden><button type="button" class="end" id="end" data-testid="End chat"></button></div>
</section>
<button type="button" class="launcher" id="launcher" aria-controls="panel" aria-expanded="false" data-testid="Open chat">${chatIcon}<span id="launchText"></span><span class="badge" id="badge" hidden></span></button>`;

type Els = Record<
  | 'panel' | 'title' | 'min' | 'note' | 'status' | 'log' | 'older' | 'prev' | 'ended' | 'welcome' | 'msgs'
  | 'typing' | 'notice' | 'form' | 'label' | 'input' | 'send' | 'foot' | 'end' | 'launcher' | 'launchText' | 'badge',
  HTMLElement
>;

export class ParleyChat extends HTMLElement {
  static observedAttributes = ['lang', 'texts', 'mode'];

  /** A function of the page that returns the customer's token (overrides the attributes). */
  tokenProvider: TokenProvider | null = null;
  private overrides: Partial<Texts> = {};
  private t: Texts = textsFor('en');
  private els: Els;
  private chat: Chat | null = null;
  private isOpen = false;
  private token: { value: string; exp: number } | null = null;
  private tokenFailed = false;
  private nodes = new WeakMap<HTMLElement, Map<string, HTMLLIElement>>();
  private lastAnnouncedUnread = 0;

  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    root.innerHTML = template;
    const els = {} as Els;
    for (const el of root.querySelectorAll<HTMLElement>('[id]')) els[el.id as keyof Els] = el;
    this.els = els;
    els.launcher.addEventListener('click', () => this.open());
    els.min.addEventListener('click', () => this.close());
    els.panel.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') this.close();
    });
    els.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.submit();
    });
    const input = els.input as HTMLTextAreaElement;
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.submit();
      }
    });
    input.addEventListener('input', () => {
      this.grow();
      this.chat?.typing();
    });
    els.end.addEventListener('click', () => void this.chat?.end());
    els.older.addEventListener('click', () => void this.chat?.loadOlder());
    document.addEventListener('visibilitychange', () => this.viewing());
    window.addEventListener('online', () => this.chat?.conn.retryNow());
    window.addEventListener('offline', () => this.render());
  }

  /** The widget id (the customer token's aud). */
  get widget(): string {
    return this.getAttribute('widget') ?? 'persistent';
  }

  /** Overrides any of the texts. */
  set texts(v: Partial<Texts>) {
    this.overrides = { ...v };
    this.applyTexts();
  }

  connectedCallback(): void {
    this.applyTexts();
    if (sessionStorage.getItem(this.openKey()) === '1') this.open(false);
    else if (localStorage.getItem(this.activeKey()) === '1') this.ensureChat(); // a conversation is going on: show new replies on the launcher
    this.render();
  }

  disconnectedCallback(): void {
    this.chat?.stop();
    this.chat = null;
  }

  attributeChangedCallback(): void {
    if (this.els) {
      this.applyTexts();
      this.render();
    }
  }

  open(focus = true): void {
    this.isOpen = true;
    sessionStorage.setItem(this.openKey(), '1');
    this.ensureChat();
    this.render();
    this.viewing();
    if (focus) (this.els.input as HTMLTextAreaElement).focus();
    this.scrollToEnd();
  }

  close(): void {
    this.isOpen = false;
    sessionStorage.removeItem(this.openKey());
    this.viewing();
    this.render();
    this.els.launcher.focus();
  }

  private openKey(): string {
    return `parley:${this.widget}:open`;
  }

  private activeKey(): string {
    return `parley:${this.widget}:active`;
  }

  private mode(): 'live' | 'persistent' {
    const c = this.chat?.state.current?.conversation;
    if (c) return c.mode;
    return this.getAttribute('mode') === 'live' ? 'live' : 'persistent';
  }

  private websocketUrl(): string {
    const attr = this.getAttribute('websocket-url');
    if (attr) return attr;
    const base = new URL(script?.src || location.href);
    base.protocol = base.protocol === 'https:' ? 'wss:' : 'ws:';
    base.pathname = '/ws';
    base.search = '';
    base.hash = '';
    return base.toString();
  }

  private async getToken(fresh: boolean): Promise<string> {
    const now = Date.now() / 1000;
    if (!fresh && this.token && this.token.exp - 60 > now) return this.token.value;
    try {
      const value = (await this.fetchToken()).trim();
      if (!value) throw new Error('empty token');
      this.token = { value, exp: jwtClaims(value).exp ?? now + 300 };
      if (this.tokenFailed) {
        this.tokenFailed = false;
        this.render();
      }
      return value;
    } catch (e) {
      // A fresh token was wanted because the last attempt failed, which is
      // mostly the network: the one held still serves while it is valid.
      if (this.token && this.token.exp - 10 > now) return this.token.value;
      this.tokenFailed = true;
      this.render();
      throw e;
    }
  }

  private async fetchToken(): Promise<string> {
    const ctx = { widget: this.widget };
    if (this.tokenProvider) return this.tokenProvider(ctx);
    const fnName = this.getAttribute('token-provider');
    if (fnName) {
      const fn = (window as unknown as Record<string, unknown>)[fnName];
      if (typeof fn !== 'function') throw new Error(`token provider ${fnName} is not a function`);
      return (fn as TokenProvider)(ctx);
    }
    const url = this.getAttribute('token-url');
    if (!url) throw new Error('no token source: set token-url or token-provider');
    const r = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/plain' },
      body: JSON.stringify(ctx),
    });
    if (!r.ok) throw new Error(`token URL answered ${r.status}`);
    if ((r.headers.get('Content-Type') ?? '').includes('json')) return ((await r.json()) as { token: string }).token;
    return r.text();
  }

  private ensureChat(): void {
    if (this.chat) return;
    this.chat = new Chat({
      widget: this.widget,
      websocketUrl: this.websocketUrl(),
      getToken: (fresh) => this.getToken(fresh),
      onChange: (s) => this.changed(s),
      storage: localStorage,
    });
    this.chat.start();
  }

  private changed(s: ChatState): void {
    if (s.current) localStorage.setItem(this.activeKey(), '1');
    else if (s.loaded) localStorage.removeItem(this.activeKey());
    this.render();
  }

  private viewing(): void {
    this.chat?.setViewing(this.isOpen && document.visibilityState === 'visible');
  }

  private submit(): void {
    const input = this.els.input as HTMLTextAreaElement;
    if (!input.value.trim()) return;
    this.ensureChat();
    this.chat!.send(input.value);
    input.value = '';
    this.grow();
    this.scrollToEnd();
  }

  private grow(): void {
    const input = this.els.input as HTMLTextAreaElement;
    input.style.height = 'auto';
    input.style.height = `${Math.min(input.scrollHeight + 2, 128)}px`;
  }

  private scrollToEnd(): void {
    const log = this.els.log;
    log.scrollTop = log.scrollHeight;
  }

  private applyTexts(): void {
    let texts: Partial<Texts> = {};
    const attr = this.getAttribute('texts');
    if (attr) {
      try {
        texts = JSON.parse(attr);
      } catch {
        // not JSON: the built-in words stay
      }
    }
    const lang = this.getAttribute('lang') || document.documentElement.lang;
    const t: Texts = { ...textsFor(lang), ...texts, ...this.overrides };
    this.t = t;
    const e = this.els;
    e.title.textContent = t.title;
    e.min.setAttribute('aria-label', t.minimize);
    e.min.title = t.minimize;
    e.log.setAttribute('aria-label', t.conversation);
    e.label.textContent = t.message;
    (e.input as HTMLTextAreaElement).placeholder = t.placeholder;
    e.send.textContent = t.send;
    e.end.textContent = t.endChat;
    e.launcher.setAttribute('aria-label', t.launcher);
    e.launchText.textContent = t.launcherText;
    e.older.textContent = t.loadEarlier;
    e.welcome.textContent = t.welcome;
  }

  // ---- rendering ----

  private render(): void {
    const e = this.els;
    const t = this.t;
    const s = this.chat?.state;
    const live = this.mode() === 'live';
    e.panel.hidden = !this.isOpen;
    e.launcher.setAttribute('aria-expanded', String(this.isOpen));
    const unread = s?.unread ?? 0;
    e.badge.hidden = unread === 0 || this.isOpen;
    e.badge.textContent = fill(t.unread, { n: unread });
    if (unread > this.lastAnnouncedUnread && !this.isOpen) {
      // The launcher's name stays "Open chat"; say there are replies in the log's stead.
      e.launcher.setAttribute('aria-description', fill(t.unread, { n: unread }));
    } else if (unread === 0) e.launcher.removeAttribute('aria-description');
    this.lastAnnouncedUnread = unread;

    e.note.textContent = live ? t.liveNote : t.persistentNote;
    e.foot.hidden = !live;
    const cur = s?.current ?? null;
    (e.end as HTMLButtonElement).disabled = !cur || cur.conversation.status === 'closed';

    // connection
    let status = '';
    if (this.tokenFailed) status = t.noToken;
    else if (s && s.status.state !== 'open' && s.status.state !== 'stopped') {
      if (typeof navigator !== 'undefined' && navigator.onLine === false) status = t.offline;
      else status = s.status.wasOpen || s.status.attempt > 0 ? t.reconnecting : t.connecting;
    }
    if (e.status.textContent !== status) e.status.textContent = status;

    if (!s) return;
    // transcript: the last closed conversation above the open one
    const prev = s.previous;
    this.renderList(e.prev, prev ? this.items(prev, s, false) : []);
    e.ended.hidden = !prev;
    if (prev) {
      const at = prev.conversation.closedAt || prev.conversation.updatedAt;
      const text = fill(t.previousEnded, { date: at ? formatDate(at, this.language()) : '' }).trim();
      e.ended.textContent = cur ? text : `${text}. ${t.writeAgain}`;
    }
    e.welcome.hidden = !!cur || !!prev || s.pending.length > 0 || !s.loaded;
    this.renderList(e.msgs, [...(cur ? this.items(cur, s, true) : []), ...s.pending.map((p) => this.pendingItem(p))]);
    const older = cur ?? prev;
    e.older.hidden = !older?.hasOlder;

    // typing, notices
    const typing = s.agentTyping ? fill(t.typing, { name: s.agentTyping.name || t.team }) : '';
    if (e.typing.textContent !== typing) e.typing.textContent = typing;
    let notice = '';
    let info = false;
    const n = s.notice;
    if (n) {
      switch (n.kind) {
        case 'outside_hours':
          notice = t.outsideHours;
          break;
        case 'ended':
          notice = t.ended;
          info = true;
          break;
        case 'queue':
          if (live) {
            info = true;
            const parts = [];
            if (n.position !== undefined) parts.push(fill(t.queuePosition, { n: n.position }));
            if (n.waitSeconds !== undefined && n.waitSeconds > 0) parts.push(fill(t.averageWait, { m: Math.max(1, Math.round(n.waitSeconds / 60)) }));
            notice = parts.join(' ') || n.text || t.waiting;
          }
          break;
        case 'error':
          notice = n.code === 'too_large' ? t.tooLarge : n.code === 'forbidden' ? t.forbidden : t.error;
          break;
      }
    }
    e.notice.hidden = !notice;
    e.notice.classList.toggle('info', info);
    if (e.notice.textContent !== notice) e.notice.textContent = notice;
    if (this.isOpen) this.keepScrolled();
  }

  private language(): string {
    return this.getAttribute('lang') || document.documentElement.lang || 'en';
  }

  /** Keeps the log at its end when it was there: new messages stay in view, reading back is not disturbed. */
  private keepScrolled(): void {
    const log = this.els.log;
    if (log.scrollHeight - log.scrollTop - log.clientHeight < 120) this.scrollToEnd();
  }

  private items(tr: Transcript, s: ChatState, isCurrent: boolean): Item[] {
    const lastSeen = isCurrent ? s.agentReadSeq : 0;
    let seenSeq = 0;
    if (isCurrent) for (const m of tr.messages) if (m.sender.role === 'customer' && m.seq <= lastSeen) seenSeq = m.seq;
    return tr.messages.map((m) => this.messageItem(m, m.seq === seenSeq, tr.conversation.id));
  }

  private messageItem(m: Message, seen: boolean, conv: string): Item {
    const t = this.t;
    const mine = m.sender.role === 'customer';
    return {
      key: `${conv}:${m.seq}`,
      cls: `m ${mine ? 'customer' : 'agent'}`,
      who: mine ? t.you : m.sender.name || t.team,
      whoVisible: !mine,
      text: m.text,
      meta: formatTime(m.at, this.language()) + (seen ? ` · ${t.seen}` : ''),
    };
  }

  private pendingItem(p: Pending): Item {
    const t = this.t;
    return {
      key: `p:${p.clientMessageId}`,
      cls: `m customer pending${p.failed ? ' failed' : ''}`,
      who: t.you,
      whoVisible: false,
      text: p.text,
      meta: p.failed ? t.notSent : t.sending,
      retry: p.failed && p.failed !== 'outside_hours' ? p.clientMessageId : undefined,
    };
  }

  /** Brings ol in line with items, touching only what changed: a screen reader hears each new message once. */
  private renderList(ol: HTMLElement, items: Item[]): void {
    let map = this.nodes.get(ol);
    if (!map) this.nodes.set(ol, (map = new Map()));
    const keep = new Set(items.map((i) => i.key));
    for (const [k, li] of map) {
      if (!keep.has(k)) {
        li.remove();
        map.delete(k);
      }
    }
    let cursor = ol.firstElementChild;
    for (const it of items) {
      let li = map.get(it.key);
      if (!li) {
        li = this.buildItem(it);
        map.set(it.key, li);
      } else this.updateItem(li, it);
      if (li === cursor) cursor = cursor.nextElementSibling;
      else ol.insertBefore(li, cursor);
    }
  }

  private buildItem(it: Item): HTMLLIElement {
    const li = document.createElement('li');
    const who = document.createElement('span');
    const text = document.createElement('p');
    const meta = document.createElement('span');
    text.className = 'text';
    meta.className = 'meta';
    li.append(who, text, meta);
    text.textContent = it.text; // user text: never markup
    this.updateItem(li, it);
    return li;
  }

  private updateItem(li: HTMLLIElement, it: Item): void {
    const [who, , meta] = li.children as unknown as HTMLElement[];
    if (li.className !== it.cls) li.className = it.cls;
    const whoText = it.whoVisible ? it.who : `${it.who}:`;
    if (who.textContent !== whoText) who.textContent = whoText;
    who.className = it.whoVisible ? 'who' : 'sr';
    const metaKey = it.meta + (it.retry ?? '');
    if (meta.dataset.k !== metaKey) {
      meta.dataset.k = metaKey;
      meta.textContent = it.meta;
      if (it.retry) {
        const b = document.createElement('button');
        b.type = 'button';
        b.textContent = this.t.retry;
        const id = it.retry;
        b.addEventListener('click', () => this.chat?.retry(id));
        meta.append(b);
      }
    }
  }
}

interface Item {
  key: string;
  cls: string;
  who: string;
  whoVisible: boolean;
  text: string;
  meta: string;
  retry?: string;
}

function formatTime(iso: string, lang: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  try {
    const sameDay = new Date().toDateString() === d.toDateString();
    return new Intl.DateTimeFormat(lang, sameDay ? { hour: '2-digit', minute: '2-digit' } : { dateStyle: 'medium', timeStyle: 'short' }).format(d);
  } catch {
    return d.toLocaleTimeString();
  }
}

function formatDate(iso: string, lang: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  try {
    return new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' }).format(d);
  } catch {
    return d.toLocaleString();
  }
}

/** Defines <parley-chat> and mounts it for the script tag that loaded this file, if it names a widget. */
function mount(): void {
  if (!customElements.get('parley-chat')) customElements.define('parley-chat', ParleyChat);
  const d = script?.dataset;
  if (!d || !d.widget || d.mount === 'manual') return;
  const el = document.createElement('parley-chat');
  const attrs: Record<string, string | undefined> = {
    widget: d.widget,
    'websocket-url': d.websocketUrl,
    'token-url': d.tokenUrl,
    'token-provider': d.tokenProvider,
    mode: d.mode,
    lang: d.lang,
    texts: d.texts,
  };
  for (const [k, v] of Object.entries(attrs)) if (v) el.setAttribute(k, v);
  const add = () => document.body.append(el);
  if (document.body) add();
  else document.addEventListener('DOMContentLoaded', add, { once: true });
}

mount();
