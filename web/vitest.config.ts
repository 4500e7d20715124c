import { defineConfig } from 'vitest/config';

// Unit tests: the protocol module and the widget's chat logic, in Node.
export default defineConfig({
  test: {
    include: ['protocol/**/*.test.ts', 'widget/**/*.test.ts', 'agent/**/*.test.ts'],
  },
});
