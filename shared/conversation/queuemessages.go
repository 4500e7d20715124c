package conversation

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Codes of the system messages a queued live chat's customer gets, spelled
// as docs/protocol.md section 5 spells them.
const (
	// CodeQueuePosition tells the customer where they stand in the queue.
	CodeQueuePosition = "queue_position"
	// CodeAverageWait tells the customer how long waits have lately been.
	CodeAverageWait = "average_wait"
)

// Default English texts, used when a workstream does not override them.
const (
	// DefaultQueuePositionText is the queue_position text.
	DefaultQueuePositionText = "You are number {position} in the queue."
	// DefaultAverageWaitText is the average_wait text from two minutes on.
	DefaultAverageWaitText = "The average wait is about {minutes} minutes."
	// DefaultShortWaitText replaces the default for waits under a minute,
	// where "about 0 minutes" would read as a promise of instant service.
	DefaultShortWaitText = "The average wait is less than a minute."
	// DefaultOneMinuteWaitText keeps the default grammatical at one minute.
	DefaultOneMinuteWaitText = "The average wait is about 1 minute."
)

// SystemMessage is the body of a system event to a queued customer.
type SystemMessage struct {
	Code               string // CodeQueuePosition or CodeAverageWait
	Text               string
	QueuePosition      int // set with CodeQueuePosition
	AverageWaitSeconds int // set with CodeAverageWait
}

// TracksWait reports whether ws's assignments are timed for its average
// wait: only a live queue ever tells it (QueueMessages), so a persistent
// workstream's assignments skip the write.
func (ws Workstream) TracksWait() bool { return ws.Mode == Live }

// QueueMessages returns what to tell the customer of a queued live chat at
// position (1 = next) when waits average averageWait. A position below 1 or
// a wait of zero or less (unknown) leaves its message out.
//
// Persistent conversations never get these, whatever the arguments: their
// customer may be gone for days, and a queue position would be stale long
// before it is read (docs/protocol.md section 5). They get nil.
func QueueMessages(ws Workstream, position int, averageWait time.Duration) []SystemMessage {
	if !ws.TracksWait() {
		return nil
	}
	var out []SystemMessage
	if position >= 1 {
		text := ws.Texts.QueuePosition
		if text == "" {
			text = DefaultQueuePositionText
		}
		out = append(out, SystemMessage{
			Code:          CodeQueuePosition,
			Text:          fill(text, position, averageWait),
			QueuePosition: position,
		})
	}
	if averageWait > 0 {
		text := ws.Texts.AverageWait
		if text == "" {
			switch minutes(averageWait) {
			case 0:
				text = DefaultShortWaitText
			case 1:
				text = DefaultOneMinuteWaitText
			default:
				text = DefaultAverageWaitText
			}
		}
		out = append(out, SystemMessage{
			Code:               CodeAverageWait,
			Text:               fill(text, position, averageWait),
			AverageWaitSeconds: seconds(averageWait),
		})
	}
	return out
}

// fill replaces the placeholders a workstream's texts may use.
func fill(text string, position int, wait time.Duration) string {
	m := minutes(wait)
	if m == 0 && wait > 0 {
		m = 1 // an override saying "{minutes} minutes" should not promise 0
	}
	return strings.NewReplacer(
		"{position}", strconv.Itoa(position),
		"{minutes}", strconv.Itoa(m),
		"{seconds}", strconv.Itoa(seconds(wait)),
	).Replace(text)
}

// minutes rounds to the nearest whole minute, except that anything under a
// full minute is 0, so that 40 seconds reads "less than a minute" rather than
// "about 1 minute".
func minutes(d time.Duration) int {
	if d < time.Minute {
		return 0
	}
	return int(math.Round(d.Minutes()))
}

func seconds(d time.Duration) int {
	return int(math.Round(d.Seconds()))
}
