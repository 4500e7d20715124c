// Package conversation holds Parley's chat domain: conversations and their
// statuses, the moves between them (send, park, pickup, close, assign,
// requeue, expire), agent capacity and routing, operating hours, queue
// messages and the validation of client input.
//
// It is plain Go on purpose: it imports nothing from AWS and does no I/O, and
// every rule that depends on time takes the time as an argument. That keeps the
// rules testable without a network and lets the DynamoDB store and the route
// handlers share one definition of what a move means.
//
// Moves are methods on *Conversation. Each checks the caller first (so a
// stranger learns nothing about the conversation's state), then the state,
// and mutates the conversation only when it succeeds, bumping Version (the
// store's optimistic lock) and UpdatedAt.
package conversation
