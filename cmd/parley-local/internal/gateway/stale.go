package gateway

import (
	"context"
	"time"
)

// EndStale invokes $disconnect for a connection this gateway never had:
// one that a previous run of the local stack recorded and then lost without
// a $disconnect, because the process was killed. API Gateway does not lose
// connections like that; locally no connection survives a restart, so each
// one left recorded is reported gone, with close code 1006 (the socket
// dropped without a close frame) and reason "Going away", before the
// restarted stack serves anyone. Without it the handlers keep the
// connections' users online, and a dead agent gets new conversations until
// the sweeper reaps the connection hours later.
func (g *Gateway) EndStale(ctx context.Context, connectionID, domainName string, connectedAt time.Time) error {
	rt, ok := g.cfg.Routes[RouteDisconnect]
	if !ok || rt.Function == nil {
		return nil
	}
	at := time.Now()
	if connectedAt.IsZero() {
		connectedAt = at
	}
	c := &conn{g: g, id: connectionID, connectedAt: connectedAt, host: domainName}
	g.log.Info("connection left by the previous run ended", "connectionId", c.id, "disconnectStatusCode", closeAbnormal, "disconnectReason", reasonGoingAway)
	requestID := newID()
	_, err := g.invoke(ctx, rt.Function, RouteDisconnect, c.id, requestID, c.disconnectEvent(requestID, closeAbnormal, reasonGoingAway, at))
	return err
}
