// The agent app in a phone-sized window, worked by keyboard alone: an agent
// on the move can still find a new conversation, read it and answer.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { axe, context, launch, shot } from './browser';
import { Stack, until } from './stack';

let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  stack = await Stack.start();
  browser = await launch();
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** Presses Tab until the focused element matches, at most 40 times. */
async function tabTo(page: Page, what: string, focused: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 40; i++) {
    if (await focused()) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${what}`);
}

it('a narrow window works by keyboard: open the conversation, read it, answer', async () => {
  const agentCtx = await context(browser, { width: 390, height: 780 });
  const agent = await agentCtx.newPage();
  await agent.goto(`${stack.url}/agent/`);
  await agent.getByRole('textbox', { name: 'Agent name' }).fill('Nora');
  await agent.keyboard.press('Enter'); // the sign-in form by keyboard
  await agent.getByRole('switch', { name: 'Presence' }).waitFor();
  await agent.getByRole('status').filter({ hasText: 'Connected' }).waitFor();

  const custCtx = await context(browser, { width: 390, height: 780 });
  const customer = await custCtx.newPage();
  await customer.goto(`${stack.url}/`);
  await customer.getByRole('textbox', { name: 'Customer name' }).fill('Ola');
  await customer.getByRole('button', { name: 'Start chat' }).click();
  await customer.getByRole('button', { name: 'Open chat' }).click();
  const box = customer.getByRole('textbox', { name: 'Message' });
  await box.fill('Do you ship to Tromsø?');
  await box.press('Enter');

  const item = agent.getByRole('list', { name: 'Conversations' }).getByRole('button', { name: /Ola/ });
  await item.waitFor();
  await shot(agent, 'agent-narrow-list');
  await tabTo(agent, "Ola's conversation", () => item.evaluate((el) => el === document.activeElement));
  await agent.keyboard.press('Enter');
  const transcript = agent.getByRole('log', { name: 'Transcript' });
  await transcript.getByText('Do you ship to Tromsø?').waitFor();
  expect(await transcript.isVisible()).toBe(true);

  const composer = agent.getByRole('textbox', { name: 'Message' });
  await tabTo(agent, 'the composer', () => composer.evaluate((el) => el === document.activeElement));
  await agent.keyboard.type('Yes, in 3-5 days.');
  await agent.keyboard.press('Enter');
  await customer.getByRole('log', { name: 'Conversation' }).getByText('Yes, in 3-5 days.').waitFor();
  await until('the reply to show in the agent transcript', async () => (await transcript.getByText('Yes, in 3-5 days.').count()) > 0);
  await shot(agent, 'agent-narrow-transcript');
  expect(await axe(agent)).toEqual([]);
  await agentCtx.close();
  await custCtx.close();
});
