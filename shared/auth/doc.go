// Package auth checks the tokens a client presents when it opens a
// WebSocket (docs/protocol.md section 1): a customer's token, issued by the
// website that embeds a widget and verified against that widget's JWKS, or
// an agent's token, issued by the agent identity provider (Cognito in AWS,
// the local issuer locally).
//
// Only RS256 and ES256 JWTs in compact form are accepted; the keys come only
// from configured JWKS URLs, never from the token (jku, jwk and x5u headers
// are ignored). It uses the standard library's crypto and imports nothing
// from AWS: the authorizer function adapts it to API Gateway.
package auth
