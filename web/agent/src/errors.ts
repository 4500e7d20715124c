// Every error code as a sentence an agent can act on.
import type { FailureCode } from '../../protocol';

export function sentence(code: FailureCode, action?: string): string {
  switch (code) {
    case 'no_capacity':
      return 'You have no free capacity. Park or close a conversation first.';
    case 'conflict':
      if (action === 'send') return 'Pick the conversation up before you reply.';
      if (action === 'pickup') return 'This conversation cannot be picked up now: it is not waiting for you.';
      if (action === 'park') return 'Only an active conversation can be parked.';
      if (action === 'close') return 'This conversation is already closed.';
      return 'The conversation is not in a state that allows this.';
    case 'forbidden':
      return 'You are not allowed to do that.';
    case 'not_found':
      return 'This conversation no longer exists or is no longer assigned to you.';
    case 'bad_request':
      return 'That request was not valid. Check the message and try again.';
    case 'unknown_action':
      return 'The server did not understand the request. Reload the app.';
    case 'unauthorized':
      return 'Your session has expired. Sign in again.';
    case 'too_large':
      return 'That is too long to send. Shorten it and try again.';
    case 'outside_hours':
      return 'This workstream is closed right now.';
    case 'rate_limited':
      return 'Too many requests at once. Wait a moment and try again.';
    case 'internal':
      return 'Something went wrong on the server. Try again.';
    case 'disconnected':
      return 'You are offline. Try again when the connection is back.';
    case 'timeout':
      return 'The server did not answer in time. Try again.';
  }
}
