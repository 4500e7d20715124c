// Package chat is Parley's chat service: each use case of docs/protocol.md
// (hello, send, history, typing, read, park, pickup, close, presence,
// connect and disconnect, assigning the queue, notifying on a conversation's
// transition, the scheduled sweep) as one method over a Store and a Pusher
// that the package declares itself.
//
// A use case reads, applies the conversation domain's move, writes, retries
// a write that lost a race under one bounded policy (retry.go), and returns
// a Result: the reply for the caller and the frames others must get, in
// order, with any follow-up work. Deliver pushes a Result; nothing else in
// the package pushes. chat imports no AWS package: shared/route adapts
// Lambda events to it, shared/store and shared/push implement its ports.
package chat
