package chat

// WriteDeadline is writeDeadline, for the external tests.
var WriteDeadline = writeDeadline
