package conversation

import "time"

// Expire reports whether sweep should close c for inactivity (then it calls
// CloseBySystem). It changes nothing itself.
//
// Persistent conversations expire InactivityTimeout (default 30 days) after
// their last message, whoever sent it and whether or not anyone is connected:
// they are meant to outlive connections, so only silence ends them.
//
// Live chats never expire while the customer is connected, and expire
// InactivityTimeout (default 20 minutes) after the customer's last connection
// closed (customerLeftAt); messages the agent sends meanwhile do not keep it
// open, since nobody reads them. The clock starts at the latest of
// customerLeftAt, the customer's last message and the creation, so a chat
// whose leaving time is unknown (zero) still ends.
func (c *Conversation) Expire(ws Workstream, now time.Time, customerConnected bool, customerLeftAt time.Time) bool {
	if c.Status == Closed {
		return false
	}
	limit := ws.InactivityLimit(c.Mode)
	var since time.Time
	switch c.Mode {
	case Persistent:
		since = later(c.CreatedAt, c.LastMessageAt)
	case Live:
		if customerConnected {
			return false
		}
		since = later(later(c.CreatedAt, c.LastCustomerMessageAt), customerLeftAt)
	default:
		return false
	}
	return limit > 0 && !since.IsZero() && now.Sub(since) >= limit
}

// InactivityLimit is how long a conversation of mode m in workstream w may
// stay quiet before Expire closes it, 0 when never: the workstream's
// InactivityTimeout, or m's default (the conversation's mode decides it, not
// the workstream's current one). Expire's clock never starts before the
// conversation was created, so none expires younger than this, which is
// what lets a sweep read only conversations at least this old.
func (w Workstream) InactivityLimit(m Mode) time.Duration {
	w.Mode = m
	return max(w.WithDefaults().InactivityTimeout, 0)
}
