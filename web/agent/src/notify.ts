// Telling the agent something happened: a toast in the app (announced by
// a live region), a short sound unless muted, and a system notification
// when the tab is hidden and the agent has allowed them.
import { signal } from '@preact/signals';

export interface Toast {
  id: number;
  text: string;
  conversationId?: string;
}

export const toasts = signal<Toast[]>([]);
export const muted = signal<boolean>(localStorage.getItem('parley.muted') === '1');
export const permission = signal<NotificationPermission | 'unsupported'>(
  typeof Notification === 'undefined' ? 'unsupported' : Notification.permission,
);

let nextId = 1;

export function toast(text: string, conversationId?: string): void {
  const t: Toast = { id: nextId++, text, conversationId };
  toasts.value = [...toasts.value.slice(-3), t];
  setTimeout(() => dismiss(t.id), 10_000);
}

export function dismiss(id: number): void {
  toasts.value = toasts.value.filter((t) => t.id !== id);
}

export function setMuted(on: boolean): void {
  muted.value = on;
  localStorage.setItem('parley.muted', on ? '1' : '0');
}

export async function askPermission(): Promise<void> {
  if (typeof Notification === 'undefined') return;
  permission.value = await Notification.requestPermission();
}

let audio: AudioContext | null = null;

/** Audio may only start after a gesture: the first click of the session unlocks it. */
export function unlockAudio(): void {
  if (audio || typeof AudioContext === 'undefined') return;
  try {
    audio = new AudioContext();
  } catch {
    audio = null;
  }
}

/** Two short tones, made on the spot (no sound file to load). */
export function chime(): void {
  if (muted.value || !audio) return;
  void audio.resume().catch(() => {});
  const now = audio.currentTime;
  for (const [i, f] of [880, 1320].entries()) {
    const o = audio.createOscillator();
    const g = audio.createGain();
    o.type = 'sine';
    o.frequency.value = f;
    const t0 = now + i * 0.14;
    g.gain.setValueAtTime(0.0001, t0);
    g.gain.exponentialRampToValueAtTime(0.18, t0 + 0.02);
    g.gain.exponentialRampToValueAtTime(0.0001, t0 + 0.22);
    o.connect(g).connect(audio.destination);
    o.start(t0);
    o.stop(t0 + 0.25);
  }
}

/** Alerts the agent: toast always, sound unless muted, a system notification when the tab is hidden. */
export function alertAgent(text: string, conversationId: string, onClick: () => void): void {
  toast(text, conversationId);
  chime();
  if (document.visibilityState === 'hidden' && permission.value === 'granted') {
    try {
      const n = new Notification('Parley', { body: text, tag: conversationId });
      n.onclick = () => {
        window.focus();
        onClick();
        n.close();
      };
    } catch {
      // some browsers only allow notifications from a service worker
    }
  }
}
