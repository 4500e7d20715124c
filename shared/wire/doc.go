// Package wire is Parley's wire protocol as Go types: one struct per client
// action and per server frame, decoded once (Decode) and encoded once
// (Encode), with the limits taken from the conversation domain, one time
// layout and the error codes as typed values. docs/protocol.md is the
// contract this package implements; protocol_test.go holds every action,
// frame, event and error code the document names against the package, so a
// new one must appear in both.
//
// wire imports no AWS package: the Lambda adapters (shared/route) read
// frames out of API Gateway events and hand them here.
package wire
