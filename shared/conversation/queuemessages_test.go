package conversation

import (
	"fmt"
	"reflect"
	"testing"
	"time"
)

func TestQueueMessages(t *testing.T) {
	live := Workstream{ID: "l", Mode: Live}
	custom := live
	custom.Texts = Texts{
		QueuePosition: "Vous êtes n°{position}.",
		AverageWait:   "Attente : {minutes} min ({seconds} s), position {position}.",
	}
	pos := func(n int, text string) SystemMessage {
		return SystemMessage{Code: "queue_position", Text: text, QueuePosition: n}
	}
	wait := func(s int, text string) SystemMessage {
		return SystemMessage{Code: "average_wait", Text: text, AverageWaitSeconds: s}
	}
	tests := []struct {
		ws       Workstream
		position int
		wait     time.Duration
		want     []SystemMessage
	}{
		{ws: live, position: 2, wait: 3 * time.Minute, want: []SystemMessage{
			pos(2, "You are number 2 in the queue."),
			wait(180, "The average wait is about 3 minutes."),
		}},
		{ws: live, position: 1, wait: 30 * time.Second, want: []SystemMessage{
			pos(1, "You are number 1 in the queue."),
			wait(30, "The average wait is less than a minute."),
		}},
		{ws: live, position: 1, wait: 59*time.Second + 400*time.Millisecond, want: []SystemMessage{
			pos(1, "You are number 1 in the queue."),
			wait(59, "The average wait is less than a minute."),
		}},
		{ws: live, position: 3, wait: time.Minute, want: []SystemMessage{
			pos(3, "You are number 3 in the queue."),
			wait(60, "The average wait is about 1 minute."),
		}},
		{ws: live, position: 3, wait: 89 * time.Second, want: []SystemMessage{
			pos(3, "You are number 3 in the queue."),
			wait(89, "The average wait is about 1 minute."),
		}},
		{ws: live, position: 3, wait: 90 * time.Second, want: []SystemMessage{
			pos(3, "You are number 3 in the queue."),
			wait(90, "The average wait is about 2 minutes."),
		}},
		// Unknown pieces are left out rather than guessed.
		{ws: live, position: 4, wait: 0, want: []SystemMessage{pos(4, "You are number 4 in the queue.")}},
		{ws: live, position: 4, wait: -time.Second, want: []SystemMessage{pos(4, "You are number 4 in the queue.")}},
		{ws: live, position: 0, wait: 2 * time.Minute, want: []SystemMessage{wait(120, "The average wait is about 2 minutes.")}},
		{ws: live, position: 0, wait: 0, want: nil},
		// Workstream overrides, every placeholder.
		{ws: custom, position: 5, wait: 150 * time.Second, want: []SystemMessage{
			pos(5, "Vous êtes n°5."),
			wait(150, "Attente : 3 min (150 s), position 5."),
		}},
		{ws: custom, position: 5, wait: 20 * time.Second, want: []SystemMessage{
			pos(5, "Vous êtes n°5."),
			wait(20, "Attente : 1 min (20 s), position 5."), // an override never promises 0 minutes
		}},
		// Persistent conversations never get them (docs/protocol.md section 5).
		{ws: Workstream{ID: "p", Mode: Persistent}, position: 2, wait: 3 * time.Minute, want: nil},
		{ws: Workstream{ID: "p", Mode: Persistent, Texts: custom.Texts}, position: 1, wait: time.Minute, want: nil},
		{ws: Workstream{ID: "x"}, position: 1, wait: time.Minute, want: nil},
	}
	for _, tt := range tests {
		call := fmt.Sprintf("QueueMessages(%s, %d, %v)", tt.ws.Mode, tt.position, tt.wait)
		if tt.ws.Texts != (Texts{}) {
			call = fmt.Sprintf("QueueMessages(%s with overrides, %d, %v)", tt.ws.Mode, tt.position, tt.wait)
		}
		got := QueueMessages(tt.ws, tt.position, tt.wait)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s =\n %+v; want\n %+v", call, got, tt.want)
		}
	}
}
