// The whole product in a real browser: a customer on the demo site's
// persistent widget and an agent in the agent app, against a real local
// stack. The steps build on each other, in order.
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axe, context, launch, shot } from './browser';
import { Stack, until } from './stack';

let stack: Stack;
let browser: Browser;
const dialogs: string[] = [];

interface Customer {
  ctx: BrowserContext;
  page: Page;
  log: Locator;
}

interface Agent {
  ctx: BrowserContext;
  page: Page;
  list: Locator;
  transcript: Locator;
}

function watch(page: Page): void {
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
}

async function openCustomer(name: string, path = '/', shots?: string): Promise<Customer> {
  const ctx = await context(browser);
  const page = await ctx.newPage();
  watch(page);
  await page.goto(stack.url + path);
  await page.getByRole('textbox', { name: 'Customer name' }).fill(name);
  await page.getByRole('button', { name: 'Start chat' }).click();
  const launcher = page.getByRole('button', { name: 'Open chat' });
  await launcher.waitFor();
  if (shots) await shot(page, shots);
  await launcher.click();
  const log = page.getByRole('log', { name: 'Conversation' });
  await log.waitFor();
  return { ctx, page, log };
}

async function signInAgent(name: string): Promise<Agent> {
  const ctx = await context(browser);
  const page = await ctx.newPage();
  watch(page);
  await page.goto(`${stack.url}/agent/`);
  await page.getByRole('textbox', { name: 'Agent name' }).fill(name);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('switch', { name: 'Presence' }).waitFor();
  await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor();
  return { ctx, page, list: page.getByRole('list', { name: 'Conversations' }), transcript: page.getByRole('log', { name: 'Transcript' }) };
}

async function customerSends(c: Customer, text: string): Promise<void> {
  const box = c.page.getByRole('textbox', { name: 'Message' });
  await box.fill(text);
  await box.press('Enter'); // the keyboard path; the Send button is the other
}

async function agentSends(a: Agent, text: string): Promise<void> {
  const box = a.page.getByRole('textbox', { name: 'Message' });
  await box.fill(text);
  await a.page.getByRole('button', { name: 'Send', exact: true }).click();
}

/** The texts of a transcript's messages, in order. */
async function texts(log: Locator): Promise<string[]> {
  return log.locator('.text').allTextContents();
}

async function sees(log: Locator, text: string): Promise<void> {
  await log.locator('.text', { hasText: text }).first().waitFor();
}

let customer: Customer;
let agent: Agent;

beforeAll(async () => {
  stack = await Stack.start();
  browser = await launch();
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe('persistent chat between the widget and the agent app', () => {
  it('the customer writes, the agent sees it and replies, the customer sees the reply', async () => {
    agent = await signInAgent('Bob');
    const presence = agent.page.getByRole('switch', { name: 'Presence' });
    expect(await presence.getAttribute('aria-checked')).toBe('true'); // signed in means available
    customer = await openCustomer('Alice', '/', 'widget-closed');
    await shot(customer.page, 'widget-open');
    expect(await customer.page.getByRole('button', { name: 'End chat' }).count()).toBe(0); // persistent: only agents end it

    await customerSends(customer, 'Hello, my tent pole snapped.');
    await sees(customer.log, 'Hello, my tent pole snapped.');
    const item = agent.list.getByRole('button', { name: /Alice/ });
    await item.waitFor();
    await until('the preview in the list', async () => (await item.textContent())?.includes('tent pole snapped'));
    await shot(agent.page, 'agent-list');
    await item.click();
    await sees(agent.transcript, 'Hello, my tent pole snapped.');

    await agentSends(agent, 'Sorry to hear that! Which model is it?');
    await sees(customer.log, 'Sorry to hear that! Which model is it?');
    // Read receipts both ways: the customer read the reply, the agent read the question.
    await agent.transcript.getByText('Seen by Alice').waitFor();
    await until('the unread count to clear', async () => !(await item.textContent())?.includes('unread'));
    await shot(agent.page, 'agent-transcript');
  });

  it('typing shows on the other side', async () => {
    await customer.page.getByRole('textbox', { name: 'Message' }).pressSequentially('The Fjell', { delay: 20 });
    await agent.page.getByText('Alice is typing…').waitFor();
    await customer.page.getByRole('textbox', { name: 'Message' }).fill('');
    await agent.page.getByRole('textbox', { name: 'Message' }).pressSequentially('One moment', { delay: 20 });
    await customer.page.getByText('Bob is typing…').waitFor();
    await agent.page.getByRole('textbox', { name: 'Message' }).fill('');
  });

  it('a reload shows the whole history', async () => {
    await customer.page.reload();
    await customer.page.getByRole('button', { name: 'Open chat' }).click();
    await sees(customer.log, 'Sorry to hear that! Which model is it?');
    expect(await texts(customer.log)).toEqual(['Hello, my tent pole snapped.', 'Sorry to hear that! Which model is it?']);
  });

  it('markup in a message is shown as text and runs nothing', async () => {
    const evil = '<img src=x onerror=alert(1)>';
    await customerSends(customer, evil);
    await sees(customer.log, evil);
    await sees(agent.transcript, evil);
    expect(await customer.log.locator('img').count()).toBe(0);
    expect(await agent.transcript.locator('img').count()).toBe(0);
    expect(await customer.log.locator('.text', { hasText: evil }).first().textContent()).toBe(evil);
    expect(dialogs).toEqual([]);
  });

  it('park, the customer returns, the agent is told and picks up', async () => {
    await agent.page.getByRole('button', { name: 'Park' }).click();
    const item = agent.list.getByRole('button', { name: /Alice/ });
    await agent.page.getByRole('heading', { name: /Waiting/ }).waitFor();
    await customerSends(customer, 'It is the Fjell 2, bought last spring.');
    await agent.page.getByText('Alice came back to a parked conversation.').waitFor();
    await until('the Returned flag', async () => (await item.textContent())?.includes('Returned'));
    await agent.page.getByRole('heading', { name: 'Returned (1)' }).waitFor();
    await shot(agent.page, 'agent-notification');
    await agent.page.getByRole('button', { name: 'Pick up' }).click();
    await agent.page.getByRole('button', { name: 'Park' }).waitFor();
    await sees(agent.transcript, 'It is the Fjell 2, bought last spring.');
    expect(await item.textContent()).not.toContain('Returned');
  });

  it('a cut connection loses and doubles nothing', async () => {
    await stack.down();
    await customer.page.getByRole('status').filter({ hasText: /Reconnecting|offline/i }).waitFor();
    await agent.page.getByRole('status').filter({ hasText: /Reconnecting|Connection lost/ }).waitFor();
    await customerSends(customer, 'Written while the line was down.');
    await customer.log.getByText('Sending…').waitFor();
    await stack.up();
    await sees(agent.transcript, 'Written while the line was down.');
    await until('the customer to be acknowledged', async () => (await customer.log.getByText('Sending…').count()) === 0);
    await agentSends(agent, 'Got it: a new pole is on its way.');
    await sees(customer.log, 'Got it: a new pole is on its way.');
    const want = [
      'Hello, my tent pole snapped.',
      'Sorry to hear that! Which model is it?',
      '<img src=x onerror=alert(1)>',
      'It is the Fjell 2, bought last spring.',
      'Written while the line was down.',
      'Got it: a new pole is on its way.',
    ];
    expect(await texts(customer.log)).toEqual(want);
    expect(await texts(agent.transcript)).toEqual(want);
  });

  it('has no serious accessibility violations on the main screens', async () => {
    expect(await axe(customer.page)).toEqual([]);
    expect(await axe(agent.page)).toEqual([]);
    await agent.page.getByRole('button', { name: 'Close conversation' }).click();
    await agent.page.getByRole('dialog').waitFor();
    expect(await axe(agent.page)).toEqual([]);
    await agent.page.getByRole('button', { name: 'Cancel' }).click();
  });

  it('the agent closes; the returning customer still sees the transcript', async () => {
    // Another device has nothing stored: the session's previousConversation
    // leads back to the transcript.
    await agent.page.getByRole('button', { name: 'Close conversation' }).click();
    await agent.page.getByRole('dialog').getByRole('button', { name: 'Confirm' }).click();
    await until('the conversation to leave the list', async () => (await agent.list.getByRole('button', { name: /Alice/ }).count()) === 0);
    await customer.page.getByText('The chat has ended.').waitFor();

    // Alice comes back another day on another device: nothing in its storage.
    const other = await openCustomer('Alice');
    await sees(other.log, 'Got it: a new pole is on its way.');
    await other.log.getByText(/Conversation ended/).waitFor();
    await other.log.getByText(/Write to us again/).waitFor();
    await shot(other.page, 'widget-returning');
    await customerSends(other, 'The new pole fits, thanks!');
    const item = agent.list.getByRole('button', { name: /Alice/ });
    await item.waitFor();
    await item.click();
    await sees(agent.transcript, 'The new pole fits, thanks!');
    await other.ctx.close();
  });
});
