package wire

// Reply is a frame that answers a request: it carries the request's id.
type Reply interface {
	Frame
	ReplyTo() RequestID
}

// ReplyTo is the id of the request f answers.
func (f *Ack) ReplyTo() RequestID { return f.RequestID }

// ReplyTo is the id of the request f answers.
func (f *Error) ReplyTo() RequestID { return f.RequestID }

// ReplyTo is the id of the request f answers.
func (f *CustomerSession) ReplyTo() RequestID { return f.RequestID }

// ReplyTo is the id of the request f answers.
func (f *AgentSession) ReplyTo() RequestID { return f.RequestID }

// ReplyTo is the id of the request f answers.
func (f *HistoryPage) ReplyTo() RequestID { return f.RequestID }

// ReplyTo is the id of the request f answers.
func (f *Pong) ReplyTo() RequestID { return f.RequestID }
