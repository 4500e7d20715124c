package store

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/parley-chat/parley/shared/conversation"
)

// WorkstreamConfig is a workstream as kept in the settings table: JSON an
// operator can read and edit with any DynamoDB tool.
type WorkstreamConfig struct {
	ID            string `json:"id"`
	Mode          string `json:"mode"`
	KeepSameAgent bool   `json:"keepSameAgent"`
	Units         int    `json:"units,omitempty"`
	Hours         struct {
		TimeZone   string              `json:"timeZone,omitempty"`
		AlwaysOpen bool                `json:"alwaysOpen,omitempty"`
		Weekly     map[string][]string `json:"weekly,omitempty"` // "monday": ["09:00-17:00"]
		Holidays   []string            `json:"holidays,omitempty"`
	} `json:"hours"`
	Texts struct {
		QueuePosition string `json:"queuePosition,omitempty"`
		AverageWait   string `json:"averageWait,omitempty"`
	} `json:"texts"`
	InactivityTimeoutSeconds    int64 `json:"inactivityTimeoutSeconds,omitempty"`
	RequeueReturnedAfterSeconds int64 `json:"requeueReturnedAfterSeconds,omitempty"`
	ReminderIntervalSeconds     int64 `json:"reminderIntervalSeconds,omitempty"`
}

// Workstream converts the stored form into the domain's.
func (w WorkstreamConfig) Workstream() (conversation.Workstream, error) {
	ws := conversation.Workstream{
		ID: w.ID, Mode: conversation.Mode(w.Mode), KeepSameAgent: w.KeepSameAgent, Units: w.Units,
		Texts:                conversation.Texts{QueuePosition: w.Texts.QueuePosition, AverageWait: w.Texts.AverageWait},
		InactivityTimeout:    time.Duration(w.InactivityTimeoutSeconds) * time.Second,
		RequeueReturnedAfter: time.Duration(w.RequeueReturnedAfterSeconds) * time.Second,
		ReminderInterval:     time.Duration(w.ReminderIntervalSeconds) * time.Second,
		Hours: conversation.Hours{TimeZone: w.Hours.TimeZone, AlwaysOpen: w.Hours.AlwaysOpen,
			Holidays: w.Hours.Holidays},
	}
	if len(w.Hours.Weekly) > 0 {
		ws.Hours.Weekly = map[time.Weekday][]conversation.Span{}
		for day, spans := range w.Hours.Weekly {
			wd, ok := weekdays[strings.ToLower(day)]
			if !ok {
				return ws, fmt.Errorf("workstream %s: weekday %q: %w", w.ID, day, conversation.ErrInvalid)
			}
			for _, sp := range spans {
				span, err := conversation.ParseSpan(sp)
				if err != nil {
					return ws, fmt.Errorf("workstream %s: %s %q: %w", w.ID, day, sp, err)
				}
				ws.Hours.Weekly[wd] = append(ws.Hours.Weekly[wd], span)
			}
		}
	}
	ws = ws.WithDefaults()
	if err := ws.Validate(); err != nil {
		return ws, err
	}
	if err := ws.Hours.Validate(); err != nil {
		return ws, fmt.Errorf("workstream %s hours: %w", w.ID, err)
	}
	return ws, nil
}

var weekdays = map[string]time.Weekday{"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday,
	"wednesday": time.Wednesday, "thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday}

const (
	widgetPrefix     = "widget#"
	workstreamPrefix = "workstream#"
	agentDefaultsKey = "agents#defaults"
	// workstreamIndexKey holds the ids of every workstream.
	workstreamIndexKey = "workstreams#index"
)

func (s *Store) getDoc(ctx context.Context, id string, v any) (bool, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.t.Settings, Key: item{"id": str(id)}})
	if err != nil {
		return false, fmt.Errorf("get setting %s: %w", id, err)
	}
	if out.Item == nil {
		return false, nil
	}
	if err := json.Unmarshal([]byte(item(out.Item).s("doc")), v); err != nil {
		return false, fmt.Errorf("decode setting %s: %w", id, err)
	}
	return true, nil
}

// putDoc writes a setting; with ifAbsent it leaves an existing one alone.
func (s *Store) putDoc(ctx context.Context, id, kind string, v any, ifAbsent bool) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode setting %s: %w", id, err)
	}
	in := &dynamodb.PutItemInput{TableName: &s.t.Settings, Item: item{"id": str(id), "kind": str(kind), "doc": str(string(b))}}
	if ifAbsent {
		in.ConditionExpression = aws.String("attribute_not_exists(id)")
	}
	if _, err := s.db.PutItem(ctx, in); err != nil && !(ifAbsent && conditionFailed(err)) {
		return fmt.Errorf("put setting %s: %w", id, err)
	}
	return nil
}

// Widget reads a widget's configuration; ErrNotFound when there is none.
func (s *Store) Widget(ctx context.Context, id string) (conversation.Widget, error) {
	var w conversation.Widget
	ok, err := s.getDoc(ctx, widgetPrefix+id, &w)
	if err != nil {
		return w, err
	}
	if !ok {
		return w, fmt.Errorf("widget %q: %w", id, conversation.ErrNotFound)
	}
	return w, nil
}

// PutWidget writes a widget; with ifAbsent an existing one is kept.
func (s *Store) PutWidget(ctx context.Context, w conversation.Widget, ifAbsent bool) error {
	return s.putDoc(ctx, widgetPrefix+w.ID, "widget", w, ifAbsent)
}

// Workstream reads a workstream; ErrNotFound when there is none.
func (s *Store) Workstream(ctx context.Context, id string) (conversation.Workstream, error) {
	var w WorkstreamConfig
	ok, err := s.getDoc(ctx, workstreamPrefix+id, &w)
	if err != nil {
		return conversation.Workstream{}, err
	}
	if !ok {
		return conversation.Workstream{}, fmt.Errorf("workstream %q: %w", id, conversation.ErrNotFound)
	}
	return w.Workstream()
}

// PutWorkstream writes a workstream; with ifAbsent an existing one is kept.
func (s *Store) PutWorkstream(ctx context.Context, w WorkstreamConfig, ifAbsent bool) error {
	if _, err := w.Workstream(); err != nil {
		return fmt.Errorf("put workstream %s: %w", w.ID, err)
	}
	if err := s.putDoc(ctx, workstreamPrefix+w.ID, "workstream", w, ifAbsent); err != nil {
		return err
	}
	// The list of workstreams is kept in one item, so listing them is a
	// GetItem and a BatchGetItem rather than a Scan.
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.t.Settings,
		Key:                       item{"id": str(workstreamIndexKey)},
		UpdateExpression:          aws.String("SET kind = :k ADD ids :w"),
		ExpressionAttributeValues: item{":k": str("index"), ":w": strSet(w.ID)},
	})
	if err != nil {
		return fmt.Errorf("list workstream %s: %w", w.ID, err)
	}
	return nil
}

// Workstreams lists every workstream: the index item, then the workstreams
// it names in one BatchGetItem.
func (s *Store) Workstreams(ctx context.Context) ([]conversation.Workstream, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.t.Settings, Key: item{"id": str(workstreamIndexKey)}})
	if err != nil {
		return nil, fmt.Errorf("list workstreams: %w", err)
	}
	ids := item(out.Item).ss("ids")
	var wss []conversation.Workstream
	for len(ids) > 0 {
		n := min(len(ids), 100) // BatchGetItem's limit
		keys := make([]map[string]types.AttributeValue, 0, n)
		for _, id := range ids[:n] {
			keys = append(keys, item{"id": str(workstreamPrefix + id)})
		}
		ids = ids[n:]
		req := map[string]types.KeysAndAttributes{s.t.Settings: {Keys: keys}}
		err := s.batchGet(ctx, req, func(_ string, items []map[string]types.AttributeValue) error {
			for _, it := range items {
				var w WorkstreamConfig
				if err := json.Unmarshal([]byte(item(it).s("doc")), &w); err != nil {
					return fmt.Errorf("decode workstream %s: %w", item(it).s("id"), err)
				}
				ws, err := w.Workstream()
				if err != nil {
					return err
				}
				wss = append(wss, ws)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read workstreams: %w", err)
		}
	}
	sort.Slice(wss, func(i, j int) bool { return wss[i].ID < wss[j].ID })
	return wss, nil
}

// AgentDefaults reads the defaults for new agents (capacity 3 when unset).
func (s *Store) AgentDefaults(ctx context.Context) (conversation.AgentDefaults, error) {
	d := conversation.AgentDefaults{Capacity: 3}
	if _, err := s.getDoc(ctx, agentDefaultsKey, &d); err != nil {
		return d, err
	}
	if d.Capacity <= 0 {
		d.Capacity = 3
	}
	return d, nil
}

// PutAgentDefaults writes the defaults for new agents.
func (s *Store) PutAgentDefaults(ctx context.Context, d conversation.AgentDefaults, ifAbsent bool) error {
	return s.putDoc(ctx, agentDefaultsKey, "agents", d, ifAbsent)
}

// RecordWait adds one assignment's wait to the workstream's statistics.
func (s *Store) RecordWait(ctx context.Context, workstream string, wait time.Duration) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.t.Settings,
		Key:                       item{"id": str("stats#" + workstream)},
		UpdateExpression:          aws.String("SET kind = :k ADD waitSeconds :w, assigned :one"),
		ExpressionAttributeValues: item{":k": str("stats"), ":w": num(int64(wait.Seconds())), ":one": num(1)},
	})
	if err != nil {
		return fmt.Errorf("record wait of %s: %w", workstream, err)
	}
	return nil
}

// AverageWait is the mean wait of the workstream's assignments so far.
func (s *Store) AverageWait(ctx context.Context, workstream string) (time.Duration, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.t.Settings, Key: item{"id": str("stats#" + workstream)}})
	if err != nil {
		return 0, fmt.Errorf("read wait of %s: %w", workstream, err)
	}
	it := item(out.Item)
	if n := it.n("assigned"); n > 0 {
		return time.Duration(it.n("waitSeconds")/n) * time.Second, nil
	}
	return 0, nil
}
