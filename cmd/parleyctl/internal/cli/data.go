package cli

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley/shared/conversation"
	"github.com/parley-chat/parley/shared/store"
)

// ---------------------------------------------------------------- agents

type agentView struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Capacity    int    `json:"capacity"`
	Used        int    `json:"used"`
	Presence    string `json:"presence"`
	Connections int    `json:"connections"`
}

func viewAgent(a conversation.Agent) agentView {
	return agentView{ID: a.ID, Name: a.Name, Capacity: a.Capacity, Used: a.Used, Presence: string(a.Presence), Connections: len(a.ConnectionIDs)}
}

var agentHeader = []string{"ID", "NAME", "CAPACITY", "USED", "PRESENCE", "CONNECTIONS"}

func (a agentView) row() []string {
	return []string{a.ID, a.Name, strconv.Itoa(a.Capacity), strconv.Itoa(a.Used), a.Presence, strconv.Itoa(a.Connections)}
}

func agentsList(e *env, args []string) error {
	fs := e.flags("agents list", "agents list")
	if _, err := e.parse(fs, args, 0); err != nil {
		return err
	}
	st, err := e.store()
	if err != nil {
		return err
	}
	as, err := st.AllAgents(e.ctx)
	if err != nil {
		return err
	}
	views := make([]agentView, 0, len(as))
	rows := make([][]string, 0, len(as))
	for _, a := range as {
		v := viewAgent(a)
		views = append(views, v)
		rows = append(rows, v.row())
	}
	return e.print(views, agentHeader, rows)
}

func agentsSetCapacity(e *env, args []string) error {
	fs := e.flags("agents set-capacity", "agents set-capacity --agent ID --capacity N")
	id := fs.String("agent", "", "the agent's id (its token's sub: the Cognito user's sub in AWS)")
	capacity := fs.Int("capacity", -1, "units of conversations the agent may hold at once")
	pos, err := e.parse(fs, args, 1)
	if err != nil {
		return err
	}
	aid, err := idArg(pos, *id, "agent")
	if err != nil {
		return err
	}
	if *capacity < 0 {
		return usageError("agents set-capacity needs --capacity N (0 or more)")
	}
	st, err := e.store()
	if err != nil {
		return err
	}
	a, err := st.SetCapacity(e.ctx, aid, *capacity)
	if err != nil {
		return err
	}
	v := viewAgent(a)
	return e.print(v, agentHeader, [][]string{v.row()})
}

// ---------------------------------------------------------------- conversations

type conversationView struct {
	ID         string `json:"id"`
	Mode       string `json:"mode"`
	Workstream string `json:"workstream"`
	Widget     string `json:"widget"`
	Status     string `json:"status"`
	Customer   string `json:"customer"`
	Agent      string `json:"agent,omitempty"`
	LastSeq    int64  `json:"lastSeq"`
	CreatedAt  string `json:"createdAt"`
	UpdatedAt  string `json:"updatedAt"`
}

func timeOf(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func viewConversation(c *conversation.Conversation) conversationView {
	v := conversationView{ID: c.ID, Mode: string(c.Mode), Workstream: c.Workstream, Widget: c.Widget, Status: string(c.Status),
		Customer: c.Customer.ID, LastSeq: c.LastSeq, CreatedAt: timeOf(c.CreatedAt), UpdatedAt: timeOf(c.UpdatedAt)}
	if c.Agent != nil {
		v.Agent = c.Agent.ID
	}
	return v
}

func conversationsList(e *env, args []string) error {
	fs := e.flags("conversations list", "conversations list --status queued|active|waiting|returned|closed [--workstream W]")
	status := fs.String("status", "", "queued, active, waiting, returned or closed (closed scans the table)")
	ws := fs.String("workstream", "", "only this workstream's")
	if _, err := e.parse(fs, args, 0); err != nil {
		return err
	}
	st := conversation.Status(*status)
	switch st {
	case conversation.Queued, conversation.Active, conversation.Waiting, conversation.Returned, conversation.Closed:
	default:
		return usageError("conversations list --status %q: one of queued, active, waiting, returned, closed", *status)
	}
	s, err := e.store()
	if err != nil {
		return err
	}
	cs, err := s.ConversationsByStatus(e.ctx, st, *ws)
	if err != nil {
		return err
	}
	views := make([]conversationView, 0, len(cs))
	rows := make([][]string, 0, len(cs))
	for _, c := range cs {
		v := viewConversation(c)
		views = append(views, v)
		rows = append(rows, []string{v.ID, v.Status, v.Workstream, v.Customer, v.Agent, strconv.FormatInt(v.LastSeq, 10), v.UpdatedAt})
	}
	return e.print(views, []string{"ID", "STATUS", "WORKSTREAM", "CUSTOMER", "AGENT", "MESSAGES", "UPDATED"}, rows)
}

// ---------------------------------------------------------------- export

type transcriptView struct {
	Conversation conversationView `json:"conversation"`
	Messages     []messageView    `json:"messages"`
}

type messageView struct {
	Seq  int64  `json:"seq"`
	At   string `json:"at"`
	Role string `json:"role"`
	ID   string `json:"senderId"`
	Name string `json:"senderName"`
	Text string `json:"text"`
}

func exportCmd(e *env, args []string) error {
	fs := e.flags("export", "export --conversation ID [--format json|text]")
	id := fs.String("conversation", "", "the conversation's id (c_...)")
	format := fs.String("format", "text", "json or text")
	pos, err := e.parse(fs, args, 1)
	if err != nil {
		return err
	}
	cid, err := idArg(pos, *id, "conversation")
	if err != nil {
		return err
	}
	if *format != "json" && *format != "text" {
		return usageError("export --format %q: json or text", *format)
	}
	st, err := e.store()
	if err != nil {
		return err
	}
	t, err := st.Transcript(e.ctx, cid)
	if err != nil {
		return notFound(err, "conversation "+cid)
	}
	v := transcriptView{Conversation: viewConversation(t.Conversation), Messages: []messageView{}}
	for _, m := range t.Messages {
		v.Messages = append(v.Messages, messageView{Seq: m.Seq, At: m.At.UTC().Format("2006-01-02T15:04:05.000Z"),
			Role: string(m.Sender.Role), ID: m.Sender.ID, Name: m.Sender.Name, Text: m.Text})
	}
	if *format == "json" {
		enc := json.NewEncoder(e.out)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	c := v.Conversation
	fmt.Fprintf(e.out, "Conversation %s (%s, %s), workstream %s, widget %s\n", c.ID, c.Mode, c.Status, c.Workstream, c.Widget)
	fmt.Fprintf(e.out, "Customer %s; started %s\n\n", c.Customer, c.CreatedAt)
	for _, m := range v.Messages {
		name := m.Name
		if name == "" {
			name = m.ID
		}
		fmt.Fprintf(e.out, "[%s] %s (%s): %s\n", m.At, name, m.Role, indent(m.Text))
	}
	return nil
}

// indent keeps a multi-line message under its header line.
func indent(s string) string { return strings.ReplaceAll(s, "\n", "\n    ") }

// ---------------------------------------------------------------- erase

func eraseCmd(e *env, args []string) error {
	fs := e.flags("erase", "erase --customer ID --widget W [--dry-run]")
	customer := fs.String("customer", "", "the customer's id (the sub of its tokens)")
	widget := fs.String("widget", "", "the widget the customer used (the same id on another widget is another person)")
	dry := fs.Bool("dry-run", false, "report what would be removed, remove nothing")
	if _, err := e.parse(fs, args, 0); err != nil {
		return err
	}
	if *customer == "" || *widget == "" {
		return usageError("erase needs --customer and --widget")
	}
	st, err := e.store()
	if err != nil {
		return err
	}
	r, err := st.EraseCustomer(e.ctx, *widget, *customer, *dry)
	if err != nil {
		return err
	}
	return e.print(r, []string{"WHAT", "COUNT", "IDS"}, erasureRows(r))
}

func erasureRows(r store.Erasure) [][]string {
	verb := "removed"
	if r.DryRun {
		verb = "would remove"
	}
	record := "0"
	if r.CustomerRecord {
		record = "1"
	}
	return [][]string{
		{verb + ": conversations", strconv.Itoa(len(r.Conversations)), strings.Join(r.Conversations, ",")},
		{verb + ": messages and marks", strconv.Itoa(r.Messages), ""},
		{verb + ": connections", strconv.Itoa(len(r.Connections)), strings.Join(r.Connections, ",")},
		{verb + ": customer record", record, r.Widget + "#" + r.Customer},
		{"capacity freed for agents", strconv.Itoa(len(r.CapacityFreed)), strings.Join(r.CapacityFreed, ",")},
	}
}
