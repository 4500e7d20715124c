// The app's runtime settings, served beside it as config.json (never baked
// into the build): locally by the stack, in AWS by whatever serves the app.
export interface Config {
  websocketUrl: string;
  authority: string;
  clientId: string;
}

export async function loadConfig(): Promise<Config> {
  const r = await fetch(new URL('config.json', document.baseURI), { cache: 'no-store' });
  if (!r.ok) throw new Error(`config.json: HTTP ${r.status}`);
  const c = (await r.json()) as Partial<Config>;
  for (const k of ['websocketUrl', 'authority', 'clientId'] as const) {
    if (typeof c[k] !== 'string' || !c[k]) throw new Error(`config.json has no ${k}`);
  }
  return c as Config;
}
