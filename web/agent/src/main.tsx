import './styles.css';
import { render } from 'preact';
import { idToken, setup, signIn, signOut } from './auth';
import { loadConfig } from './config';
import { unlockAudio } from './notify';
import { connect, markRead, setVisible, signedIn } from './state';
import { App } from './ui/App';

const root = document.getElementById('app')!;

function message(title: string, text: string, action?: { label: string; run: () => void }) {
  render(
    <main class="center">
      <h1>{title}</h1>
      <p>{text}</p>
      {action && (
        <button type="button" class="primary" onClick={action.run}>
          {action.label}
        </button>
      )}
    </main>,
    root,
  );
}

async function boot(): Promise<void> {
  let config;
  try {
    config = await loadConfig();
  } catch (e) {
    message('The agent app cannot start', `Its settings could not be read (${(e as Error).message}).`, { label: 'Try again', run: () => location.reload() });
    return;
  }
  setup(config);
  let session;
  try {
    session = await signIn();
  } catch (e) {
    message('Sign-in failed', (e as Error).message, { label: 'Sign in', run: () => location.assign(location.pathname) });
    return;
  }
  if (!session) {
    message('Signing in…', 'Taking you to the sign-in page.');
    return;
  }
  if (session.fresh) signedIn();
  document.addEventListener('pointerdown', unlockAudio, { once: true });
  document.addEventListener('keydown', unlockAudio, { once: true });
  document.addEventListener('visibilitychange', () => setVisible(document.visibilityState === 'visible'));
  window.addEventListener('focus', markRead);
  const conn = connect(config.websocketUrl, idToken);
  window.addEventListener('online', () => conn.retryNow());
  render(<App onSignOut={() => { conn.stop(); void signOut(); }} />, root);
}

void boot();
