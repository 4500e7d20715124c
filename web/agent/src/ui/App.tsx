import { useEffect, useRef, useState } from 'preact/hooks';
import type { Pending } from '../../../protocol';
import { askPermission, dismiss, muted, permission, setMuted, toasts } from '../notify';
import {
  type ConvView,
  agent,
  close,
  discard,
  groups,
  loadOlder,
  me,
  park,
  pickup,
  problem,
  retry,
  select,
  selected,
  selectedId,
  send,
  setPresence,
  status,
  typing,
  unread,
  wantedPresence,
} from '../state';

export function App({ onSignOut }: { onSignOut: () => void }) {
  const sel = selected.value;
  return (
    <div class={`app${sel ? ' has-selection' : ''}`}>
      <TopBar onSignOut={onSignOut} />
      <div class="body">
        <ConversationList />
        <main class="main" id="main">
          {sel ? <ConversationPane v={sel} key={sel.c.id} /> : <Empty />}
        </main>
      </div>
      <Toasts />
    </div>
  );
}

function TopBar({ onSignOut }: { onSignOut: () => void }) {
  const a = agent.value;
  const available = wantedPresence.value === 'available';
  return (
    <header class="top">
      <h1 class="brand">Parley</h1>
      <div class="presence">
        <span id="presence-label" class="presence-label">
          Presence
        </span>
        <button
          type="button"
          role="switch"
          aria-checked={available}
          aria-labelledby="presence-label"
          class={`switch ${available ? 'on' : 'off'}`}
          onClick={() => void setPresence(available ? 'away' : 'available')}
        >
          <span class="knob" aria-hidden="true" />
          <span class="switch-text">{available ? 'Available' : 'Away'}</span>
        </button>
      </div>
      {a && (
        <p class="capacity">
          {groups.value.active.length} active · capacity {a.capacity}
        </p>
      )}
      <ConnectionState />
      <div class="tools">
        <button type="button" class="tool" aria-pressed={!muted.value} onClick={() => setMuted(!muted.value)}>
          Sound {muted.value ? 'off' : 'on'}
        </button>
        {permission.value === 'default' && (
          <button type="button" class="tool" onClick={() => void askPermission()}>
            Enable desktop notifications
          </button>
        )}
        <span class="me">{me.value?.name}</span>
        <button type="button" class="tool" onClick={onSignOut}>
          Sign out
        </button>
      </div>
    </header>
  );
}

function ConnectionState() {
  const s = status.value;
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (s.state !== 'waiting') return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [s.state]);
  let text = 'Connected';
  let cls = 'ok';
  if (s.state === 'waiting') {
    const secs = Math.max(0, Math.ceil(((s.retryAt ?? now) - now) / 1000));
    text = s.wasOpen ? `Connection lost. Reconnecting in ${secs} s…` : `Cannot connect. Retrying in ${secs} s…`;
    cls = 'bad';
  } else if (s.state === 'connecting') {
    text = s.wasOpen ? 'Reconnecting…' : 'Connecting…';
    cls = 'warn';
  } else if (s.state === 'stopped') {
    text = 'Offline';
    cls = 'bad';
  }
  return (
    <p class={`conn ${cls}`} role="status">
      {text}
    </p>
  );
}

const groupNames = { active: 'Active', returned: 'Returned', waiting: 'Waiting' } as const;

function ConversationList() {
  const g = groups.value;
  const total = g.active.length + g.returned.length + g.waiting.length;
  return (
    <nav class="list" aria-labelledby="list-title">
      <h2 id="list-title" class="list-title">
        Your conversations
        {g.returned.length > 0 && <span class="returned-count">{g.returned.length} returned</span>}
      </h2>
      {total === 0 ? (
        <p class="none">No conversations yet. New ones appear here as customers write.</p>
      ) : null}
      <ul aria-label="Conversations" class="groups">
        {(['active', 'returned', 'waiting'] as const).map((k) =>
          g[k].length === 0 ? null : (
            <li key={k} class={`group ${k}`}>
              <h3 id={`group-${k}`} class="group-title">
                {groupNames[k]} <span class="count">({g[k].length})</span>
              </h3>
              <ul aria-labelledby={`group-${k}`}>
                {g[k].map((v) => (
                  <Item key={v.c.id} v={v} />
                ))}
              </ul>
            </li>
          ),
        )}
      </ul>
    </nav>
  );
}

function Item({ v }: { v: ConvView }) {
  const n = unread(v);
  const current = selectedId.value === v.c.id;
  const last = v.c.lastMessage;
  return (
    <li>
      <button type="button" class={`item${current ? ' current' : ''}`} aria-current={current ? 'true' : undefined} onClick={() => select(v.c.id)}>
        <span class="item-top">
          <span class="name">{v.c.customer.name}</span>
          {v.c.status === 'returned' && <span class="flag">Returned</span>}
          {last && <time dateTime={last.at}>{time(last.at)}</time>}
        </span>
        <span class="item-bottom">
          <span class="preview">{last ? `${last.sender.role === 'agent' ? 'You: ' : ''}${last.text}` : 'No messages yet'}</span>
          {n > 0 && <span class="unread">{n} unread</span>}
        </span>
      </button>
    </li>
  );
}

function Empty() {
  return (
    <div class="empty">
      <h2>No conversation selected</h2>
      <p>Choose a conversation from the list. New conversations and returning customers are announced here too.</p>
    </div>
  );
}

function ConversationPane({ v }: { v: ConvView }) {
  const [confirming, setConfirming] = useState(false);
  const c = v.c;
  const p = problem.value;
  const active = c.status === 'active';
  return (
    <section class="pane" aria-labelledby="pane-title">
      <header class="pane-head">
        <button type="button" class="back" onClick={() => select(null)}>
          Back to conversations
        </button>
        <h2 id="pane-title">{c.customer.name}</h2>
        <span class={`badge ${c.status}`}>{groupNames[c.status as keyof typeof groupNames] ?? c.status}</span>
        <div class="actions">
          {active ? (
            <button type="button" onClick={() => void park(c.id)}>
              Park
            </button>
          ) : (
            <button type="button" class="primary" onClick={() => void pickup(c.id)}>
              Pick up
            </button>
          )}
          <button type="button" class="danger" onClick={() => setConfirming(true)}>
            Close conversation
          </button>
        </div>
      </header>
      {p && (!p.conversationId || p.conversationId === c.id) && (
        <p class="problem" role="alert">
          {p.text}
        </p>
      )}
      <Transcript v={v} />
      <p class="typing" aria-live="polite">
        {v.customerTyping ? `${c.customer.name} is typing…` : ''}
      </p>
      <Composer v={v} />
      {confirming && (
        <ConfirmClose
          name={c.customer.name}
          onCancel={() => setConfirming(false)}
          onConfirm={async () => {
            setConfirming(false);
            await close(c.id);
          }}
        />
      )}
    </section>
  );
}

function Transcript({ v }: { v: ConvView }) {
  const ref = useRef<HTMLDivElement>(null);
  const atEnd = useRef(true);
  const lastSeq = v.messages.length ? v.messages[v.messages.length - 1].seq : 0;
  const firstSeq = v.messages[0]?.seq ?? 0;
  const prevHeight = useRef(0);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    if (atEnd.current) el.scrollTop = el.scrollHeight;
  }, [lastSeq, v.pending.length]);
  useEffect(() => {
    // Older messages came in above: keep what the agent was reading in place.
    const el = ref.current;
    if (el && prevHeight.current && !atEnd.current) el.scrollTop += el.scrollHeight - prevHeight.current;
  }, [firstSeq]);
  const seen = lastCustomerSeen(v);
  return (
    <div
      class="transcript"
      role="log"
      aria-label="Transcript"
      tabindex={0}
      ref={ref}
      onScroll={(e) => {
        const el = e.currentTarget;
        atEnd.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
        prevHeight.current = el.scrollHeight;
        if (el.scrollTop < 40 && v.hasOlder) void loadOlder(v.c.id);
      }}
    >
      {v.hasOlder && (
        <button type="button" class="older" onClick={() => void loadOlder(v.c.id)}>
          Load earlier messages
        </button>
      )}
      {!v.loaded && <p class="loading">Loading the conversation…</p>}
      <ol class="messages">
        {v.messages.map((m) => (
          <li key={m.seq} class={`msg ${m.sender.role}`}>
            <span class="who">{m.sender.role === 'agent' ? (m.sender.id === me.value?.id ? 'You' : m.sender.name) : m.sender.name}</span>
            <p class="text">{m.text}</p>
            <span class="meta">
              <time dateTime={m.at}>{time(m.at)}</time>
              {m.seq === seen && <span class="seen"> · Seen by {v.c.customer.name}</span>}
            </span>
          </li>
        ))}
        {v.pending.map((p) => (
          <PendingItem key={p.clientMessageId} id={v.c.id} p={p} />
        ))}
      </ol>
    </div>
  );
}

function PendingItem({ id, p }: { id: string; p: Pending }) {
  return (
    <li class={`msg agent pending${p.failed ? ' failed' : ''}`}>
      <span class="who">You</span>
      <p class="text">{p.text}</p>
      <span class="meta">
        {p.failed ? (
          <>
            Not sent.{' '}
            <button type="button" class="link" onClick={() => retry(id, p.clientMessageId)}>
              Try again
            </button>{' '}
            <button type="button" class="link" onClick={() => discard(id, p.clientMessageId)}>
              Discard
            </button>
          </>
        ) : (
          'Sending…'
        )}
      </span>
    </li>
  );
}

/** The agent's newest message the customer has read. */
function lastCustomerSeen(v: ConvView): number {
  let seq = 0;
  for (const m of v.messages) if (m.sender.role === 'agent' && m.seq <= v.customerRead) seq = m.seq;
  return seq;
}

function Composer({ v }: { v: ConvView }) {
  const [text, setText] = useState('');
  const ref = useRef<HTMLTextAreaElement>(null);
  const active = v.c.status === 'active';
  const submit = () => {
    if (!text.trim() || !active) return;
    send(v.c.id, text);
    setText('');
    ref.current?.focus();
  };
  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <label for="composer-text">Message</label>
      <textarea
        id="composer-text"
        ref={ref}
        rows={2}
        maxLength={4000}
        value={text}
        disabled={!active}
        aria-describedby={active ? 'composer-hint' : 'composer-why'}
        onInput={(e) => {
          setText(e.currentTarget.value);
          typing(v.c.id);
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            submit();
          }
        }}
      />
      <button type="submit" disabled={!active}>
        Send
      </button>
      <p class="hint" id={active ? 'composer-hint' : 'composer-why'}>
        {active ? 'Enter sends, Shift+Enter starts a new line.' : 'Pick up the conversation to reply.'}
      </p>
    </form>
  );
}

function ConfirmClose({ name, onConfirm, onCancel }: { name: string; onConfirm: () => void; onCancel: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => d?.close();
  }, []);
  return (
    <dialog ref={ref} class="dialog" aria-labelledby="confirm-title" aria-describedby="confirm-text" onCancel={onCancel}>
      <h2 id="confirm-title">Close this conversation?</h2>
      <p id="confirm-text">
        The conversation with {name} ends and becomes read-only. If {name} writes again, that starts a new conversation.
      </p>
      <div class="dialog-actions">
        <button type="button" onClick={onCancel} autofocus>
          Cancel
        </button>
        <button type="button" class="danger" onClick={onConfirm}>
          Confirm
        </button>
      </div>
    </dialog>
  );
}

function Toasts() {
  return (
    <div class="toasts" role="status" aria-live="polite">
      {toasts.value.map((t) => (
        <div key={t.id} class="toast">
          <span>{t.text}</span>
          {t.conversationId && (
            <button
              type="button"
              class="link"
              onClick={() => {
                select(t.conversationId!);
                dismiss(t.id);
              }}
            >
              Open
            </button>
          )}
          <button type="button" class="link" aria-label="Dismiss notification" onClick={() => dismiss(t.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}

function time(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const today = new Date().toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : d.toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
}
