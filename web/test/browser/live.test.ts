// The live widget: queue messages while no agent is free, and the customer
// may end the chat (the persistent widget has no such button: chat.test.ts).
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { axe, context, launch, shot } from './browser';
import { Stack } from './stack';

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

it('the live widget shows the queue and lets the customer end the chat', async () => {
  const ctx = await context(browser, { width: 420, height: 760 }); // a phone-sized window
  const page = await ctx.newPage();
  await page.goto(`${stack.url}/`);
  await page.getByRole('link', { name: 'Live chat' }).click();
  await page.waitForURL(/widget=live/);
  await page.getByRole('textbox', { name: 'Customer name' }).fill('Carol');
  await page.getByRole('button', { name: 'Start chat' }).click();
  await page.getByRole('button', { name: 'Open chat' }).click();
  const end = page.getByRole('button', { name: 'End chat' });
  await end.waitFor();
  expect(await end.isDisabled()).toBe(true); // nothing to end yet

  await page.getByRole('textbox', { name: 'Message' }).fill('Is the Fjell 2 in stock?');
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await page.getByText('You are number 1 in the queue.').waitFor(); // no agent is signed in
  await shot(page, 'widget-live-queue');
  expect(await axe(page)).toEqual([]);

  await end.click();
  await page.getByText('The chat has ended.').waitFor();
  expect(await page.getByRole('log', { name: 'Conversation' }).getByText(/Conversation ended/).count()).toBe(1);
  await ctx.close();
});
