package main

import "math"

// Prices, in US dollars, us-east-1 list prices as issue 13 quotes them from
// the AWS pricing pages "Amazon API Gateway pricing" (WebSocket APIs),
// "Amazon DynamoDB pricing" (on-demand capacity), "AWS Lambda pricing"
// (Arm) and "Amazon Connect pricing" (chat). Copied into this file on
// 2026-12-02 from the issue; the pages themselves were not re-read for it,
// so check them before quoting a bill.
const (
	priceWebSocketMessage  = 1.00 / 1e6   // per message, first billion a month, counted in 32 KB units
	priceConnectionMinute  = 0.25 / 1e6   // per connection minute
	priceWriteUnit         = 0.625 / 1e6  // on-demand write request unit
	priceReadUnit          = 0.125 / 1e6  // on-demand read request unit
	priceLambdaRequest     = 0.20 / 1e6   // per invocation
	priceLambdaGBSecondArm = 0.0000133334 // per GB-second, arm64
	lambdaMemoryGB         = 0.25         // template.yaml's MemorySize: 256 MB
	priceConnectMessage    = 0.004        // Amazon Connect chat, per message (a newer copy of the page: 0.010)
	priceConnectMessageNew = 0.010        //
	webSocketUnitBytes     = 32 * 1024    // API Gateway meters WebSocket messages in 32 KB units
	targetUSDPerMillion    = 5.0          // issue 13's target
)

// Assumptions the model needs that a local run cannot measure.
const (
	// lambdaBilledMs is the billed duration assumed per invocation on AWS:
	// a handler that makes its 3 DynamoDB requests and 2 pushes in-region
	// (single-digit milliseconds each) runs about 20-30 ms; the local
	// stack's in-process durations are far shorter and are reported, not
	// billed.
	lambdaBilledMs = 30.0
	// connectionMinutesPerMessage: a widget or agent app stays connected
	// while its page is open, whether or not anyone types. A chat where
	// each open connection carries a message every 30 s on average puts
	// half a connection minute on each message.
	connectionMinutesPerMessage = 0.5
)

// rates is what one message costs in billable units, measured.
type rates struct {
	SendDynamoDB   float64 `json:"send_dynamodb_requests"`
	SendWrite      float64 `json:"send_write_units"`
	SendRead       float64 `json:"send_read_units"`
	SendPushes     float64 `json:"send_pushes"`
	AllDynamoDB    float64 `json:"all_dynamodb_requests"`
	AllWrite       float64 `json:"all_write_units"`
	AllRead        float64 `json:"all_read_units"`
	AllPushes      float64 `json:"all_pushes"`
	AllInvocations float64 `json:"all_invocations"`
	FramesIn       float64 `json:"client_frames"` // frames clients sent (API Gateway bills each)
	FrameUnits     float64 `json:"units_per_frame"`
}

// perMessage divides a run's costs by its messages: the send invocations'
// own (what one message costs in steady state), and every invocation of
// the run's window (connects, sessions, parks, pickups, stream
// notifications and assignments included).
func perMessage(r result) rates {
	n := float64(max(r.Messages, 1))
	w := r.Window
	return rates{
		SendDynamoDB:   float64(sum(w.Send.DynamoDB)) / n,
		SendWrite:      w.Send.Capacity.Write / n,
		SendRead:       w.Send.Capacity.Read / n,
		SendPushes:     float64(w.Send.ManagementAPI["PostToConnection"]) / n,
		AllDynamoDB:    float64(sum(w.DynamoDB)) / n,
		AllWrite:       w.Capacity.Write / n,
		AllRead:        w.Capacity.Read / n,
		AllPushes:      float64(w.ManagementAPI["PostToConnection"]) / n,
		AllInvocations: float64(w.Invocations) / n,
		FramesIn:       float64(r.FramesOut) / n,
		FrameUnits:     math.Max(1, math.Ceil(float64(r.MaxFrame)/webSocketUnitBytes)),
	}
}

// costLine is one part of the price of a million messages.
type costLine struct {
	Item  string  `json:"item"`
	Units float64 `json:"units_per_message"`
	USD   float64 `json:"usd_per_million_messages"`
	Basis string  `json:"basis"`
}

type costModel struct {
	Lines        []costLine `json:"lines"`
	Total        float64    `json:"usd_per_million_messages"`
	VsConnect    float64    `json:"times_cheaper_than_amazon_connect"`
	VsConnectNew float64    `json:"times_cheaper_than_amazon_connect_newer_price"`
}

// sendPath is p with only the send invocations' own costs: the message's
// frame in, its pushes, its one invocation and its capacity units, what a
// message costs once everyone is connected and in a conversation.
func sendPath(p rates) rates {
	return rates{FramesIn: 1, FrameUnits: p.FrameUnits, AllPushes: p.SendPushes, AllInvocations: 1, AllWrite: p.SendWrite, AllRead: p.SendRead}
}

// model prices a million messages from the measured per-message rates.
func model(p rates) costModel {
	lambdaPer := priceLambdaRequest + lambdaMemoryGB*lambdaBilledMs/1000*priceLambdaGBSecondArm
	apigwIn := p.FramesIn * p.FrameUnits
	apigwOut := p.AllPushes * p.FrameUnits
	lines := []costLine{
		{"API Gateway messages in (client frames)", apigwIn, apigwIn * priceWebSocketMessage * 1e6, "measured frames, 32 KB units"},
		{"API Gateway messages out (PostToConnection)", apigwOut, apigwOut * priceWebSocketMessage * 1e6, "measured pushes, 32 KB units"},
		{"API Gateway connection minutes", connectionMinutesPerMessage, connectionMinutesPerMessage * priceConnectionMinute * 1e6, "assumed: one message per open connection every 30 s"},
		{"Lambda invocations (requests + 256 MB arm64 GB-s)", p.AllInvocations, p.AllInvocations * lambdaPer * 1e6, "measured invocations, 30 ms billed each (assumed)"},
		{"DynamoDB write request units", p.AllWrite, p.AllWrite * priceWriteUnit * 1e6, "measured ConsumedCapacity"},
		{"DynamoDB read request units", p.AllRead, p.AllRead * priceReadUnit * 1e6, "measured ConsumedCapacity"},
		{"DynamoDB Streams reads by Lambda", 0, 0, "GetRecords by a Lambda trigger is not billed; filtered-out records invoke nothing"},
	}
	m := costModel{Lines: lines}
	for _, l := range lines {
		m.Total += l.USD
	}
	if m.Total > 0 {
		m.VsConnect = priceConnectMessage * 1e6 / m.Total
		m.VsConnectNew = priceConnectMessageNew * 1e6 / m.Total
	}
	return m
}

// simpleChatUSD prices a million messages of the AWS sample chat with n
// connections: one frame in, one push to each connection, one invocation,
// and its scan's read units.
func simpleChatUSD(s scanCost) float64 {
	lambdaPer := priceLambdaRequest + lambdaMemoryGB*lambdaBilledMs/1000*priceLambdaGBSecondArm
	return (float64(1+s.Pushes)*priceWebSocketMessage + lambdaPer + s.ReadUnits*priceReadUnit) * 1e6
}
