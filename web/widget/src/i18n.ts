// The widget's words. English and Norwegian Bokmål are built in; a site
// overrides any of them (data-texts, or the element's texts property).
// The accessible names tests drive the widget by are in data-testid too,
// so another language or a site's own words never break them.

export const en = {
  title: 'Chat with us',
  launcher: 'Open chat',
  launcherText: 'Chat',
  minimize: 'Minimize chat',
  message: 'Message',
  placeholder: 'Write a message…',
  send: 'Send',
  endChat: 'End chat',
  conversation: 'Conversation',
  persistentNote: 'We answer here, even if you leave: come back any time to read our reply.',
  liveNote: 'Live chat: stay on this page while we talk.',
  welcome: 'Hi! How can we help you today?',
  writeAgain: 'This conversation has ended. Write to us again whenever you like.',
  previousEnded: 'Conversation ended {date}',
  connecting: 'Connecting…',
  reconnecting: 'Connection lost. Reconnecting…',
  offline: 'You are offline. Your messages will be sent when the connection is back.',
  sending: 'Sending…',
  notSent: 'Not sent.',
  retry: 'Try again',
  seen: 'Seen',
  typing: '{name} is typing…',
  team: 'Our team',
  you: 'You',
  queuePosition: 'You are number {n} in the queue.',
  averageWait: 'The average wait is about {m} min.',
  waiting: 'Waiting for the next available agent…',
  outsideHours: 'We are closed right now, so your message was not sent. Please come back during our opening hours.',
  ended: 'The chat has ended.',
  error: 'Your message could not be sent. Please try again.',
  tooLarge: 'That message is too long to send.',
  forbidden: 'That is not possible in this chat.',
  noToken: 'The chat is not available right now: this page could not sign you in.',
  loadEarlier: 'Show earlier messages',
  unread: '{n} new',
};

export type Texts = typeof en;

export const nb: Texts = {
  title: 'Chat med oss',
  launcher: 'Åpne chat',
  launcherText: 'Chat',
  minimize: 'Minimer chat',
  message: 'Melding',
  placeholder: 'Skriv en melding…',
  send: 'Send',
  endChat: 'Avslutt chat',
  conversation: 'Samtale',
  persistentNote: 'Vi svarer her, også om du går: kom tilbake når som helst for å lese svaret.',
  liveNote: 'Direktechat: bli på siden mens vi snakker.',
  welcome: 'Hei! Hva kan vi hjelpe deg med i dag?',
  writeAgain: 'Denne samtalen er avsluttet. Skriv til oss igjen når du vil.',
  previousEnded: 'Samtalen ble avsluttet {date}',
  connecting: 'Kobler til…',
  reconnecting: 'Forbindelsen ble brutt. Kobler til igjen…',
  offline: 'Du er frakoblet. Meldingene dine sendes når forbindelsen er tilbake.',
  sending: 'Sender…',
  notSent: 'Ikke sendt.',
  retry: 'Prøv igjen',
  seen: 'Sett',
  typing: '{name} skriver…',
  team: 'Teamet vårt',
  you: 'Du',
  queuePosition: 'Du er nummer {n} i køen.',
  averageWait: 'Gjennomsnittlig ventetid er omtrent {m} min.',
  waiting: 'Venter på neste ledige medarbeider…',
  outsideHours: 'Vi har stengt nå, så meldingen ble ikke sendt. Kom gjerne tilbake i åpningstiden.',
  ended: 'Chatten er avsluttet.',
  error: 'Meldingen kunne ikke sendes. Prøv igjen.',
  tooLarge: 'Meldingen er for lang til å sendes.',
  forbidden: 'Det går ikke i denne chatten.',
  noToken: 'Chatten er ikke tilgjengelig nå: siden kunne ikke logge deg inn.',
  loadEarlier: 'Vis tidligere meldinger',
  unread: '{n} nye',
};

/** The built-in texts for a language tag: Norwegian (nb, no, nn) or English. */
export function textsFor(lang: string | null | undefined): Texts {
  const l = (lang ?? '').toLowerCase();
  return /^(nb|no|nn)\b/.test(l) ? nb : en;
}

/** Fills {name} placeholders. */
export function fill(text: string, values: Record<string, string | number>): string {
  return text.replace(/\{(\w+)\}/g, (all, k: string) => (k in values ? String(values[k]) : all));
}
