// Package gateway emulates an API Gateway WebSocket API and its Management
// API (@connections) for the local stack, running the template's functions
// in-process through package invoke.
//
// It follows docs/aws-behaviour.md sections 1-5. The REQUEST authorizer and $connect
// decide the upgrade; text messages are routed by the route selection
// expression; the frame, message, idle and duration limits close the
// connection; $disconnect runs once per connection whatever ended it; and
// the Management API answers with the statuses and error names the
// unmodified AWS SDK turns into typed errors. Frames are read one header at
// a time (github.com/gobwas/ws), so a peer-declared length is checked
// against the limits before anything is read or allocated.
//
// # Emulated
//
//   - Events: CONNECT (upgrade headers and query string, single-valued maps
//     keeping the last value, X-Forwarded-For/-Port/-Proto and
//     X-Amzn-Trace-Id added), MESSAGE (body, messageId) and DISCONNECT (only
//     Host, x-api-key, X-Forwarded-For, x-restapi; disconnectStatusCode and
//     disconnectReason), all with API Gateway's requestContext; requestId
//     equals extendedRequestId; ids are 16-character URL-safe base64.
//   - Authorizer: the WebSocket REQUEST input; identity sources
//     route.request.querystring.* and route.request.header.* (missing or
//     empty: 401 without a call); error "Unauthorized": 401; explicit Deny,
//     or no Allow matching methodArn (IAM * and ? wildcards, single or list
//     Statement/Action/Resource): 403; any other failure, a non-scalar
//     context value or a result over 8 KB: 500. Context plus principalId is
//     requestContext.authorizer on every event of the connection. No caching.
//   - $connect: 2xx accepts and only Sec-WebSocket-Protocol is passed on;
//     another status N is answered as HTTP N with no body; a function
//     failure or a result without a usable statusCode is 502. @connections
//     answers 410 for the connection until $connect has returned.
//   - Routing: $request.body.<path> (and ${request.body.<path>}), result
//     stringified, missing or null as "", non-JSON and unmatched keys to
//     $default, keys starting with "$" never matched as custom routes, and
//     the Forbidden frame without $default. Invocations of one connection
//     run concurrently. A failed, panicking or timed-out function gets the
//     "Internal server error" frame and the connection stays open. With
//     RouteResponse the returned body (base64-decoded when flagged) is sent
//     back; otherwise the result is dropped.
//   - Limits: frame over FrameBytes or message over MessageBytes: 1009;
//     binary: 1003; no data message either way for IdleTimeout, or open for
//     MaxDuration: 1001 "Going away"; URL over 4096 characters: 414. Pings
//     are answered and do not count as activity. Outgoing messages are
//     split into frames of at most FrameBytes.
//   - Closing: the client's close code and reason reach $disconnect (1005
//     "Client-side close frame status not set" without a code) and the code
//     is echoed; DeleteConnection sends close 1000 and reports 1000
//     "Connection Closed Normally"; an abrupt drop reports 1006.
//   - Management API: POST (text frame, 200; over MessageBytes: 413
//     PayloadTooLargeException), GET (connectedAt, identity, lastActiveAt),
//     DELETE (204); unknown, closed or not-yet-open ids: 410 GoneException;
//     errors named in X-Amzn-ErrorType with a JSON message; ids
//     percent-decoded; paths with and without the stage.
//
// # Not emulated, or unverified
//
//   - SigV4 signatures and IAM (execute-api:ManageConnections) are not
//     checked; 429 LimitExceededException, the 500 new connections per
//     second quota and the 29 s integration timeout are not enforced (the
//     function's own Timeout applies).
//   - Stage variables (the stage has none), context.* identity sources,
//     NotAction/NotResource and policy conditions.
//   - Header names are passed in Go's canonical case (Sec-WebSocket-* are
//     restored to API Gateway's spelling); API Gateway keeps the client's.
//   - Unverified choices: the close code and reason for idle and maximum
//     duration (1001 "Going away"), 1006 "" for an abrupt drop, the reasons
//     sent with 1009/1003/1007/1002, the bodies of refused upgrades, the
//     414 status, authorizer context values passed through with their JSON
//     types rather than stringified, and 1007 for invalid UTF-8 (RFC 6455's
//     rule; API Gateway's behaviour is unknown).
package gateway
