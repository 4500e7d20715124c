package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/parley-chat/parley/infra"
	"github.com/parley-chat/parley/shared/conversation"
	"github.com/parley-chat/parley/shared/store"
)

func applyCmd(e *env, args []string) error {
	fs := e.flags("apply", "apply -f FILE [--issuer URL --jwks-url URL --origins LIST] [--if-absent]")
	file := fs.String("f", "", "the configuration file (YAML or JSON; infra/settings.yaml is the default configuration)")
	issuer := fs.String("issuer", "", "the customer-token issuer of the file's widgets that name none")
	jwks := fs.String("jwks-url", "", "the JWKS URL of the file's widgets that name none")
	origins := fs.String("origins", "", "comma-separated allowed origins of the file's widgets that name none")
	ifAbsent := fs.Bool("if-absent", false, "keep the settings that already exist")
	if _, err := e.parse(fs, args, 0); err != nil {
		return err
	}
	if *file == "" {
		return usageError("apply needs -f FILE (e.g. -f infra/settings.yaml)")
	}
	b, err := os.ReadFile(*file)
	if err != nil {
		return fmt.Errorf("read configuration: %w", err)
	}
	cfg, err := infra.ParseConfig(b)
	if err != nil {
		return fmt.Errorf("%s: %w", *file, err)
	}
	for i := range cfg.Widgets {
		w := &cfg.Widgets[i]
		if w.Issuer == "" {
			w.Issuer = *issuer
		}
		if w.JWKSURL == "" {
			w.JWKSURL = *jwks
		}
		if len(w.AllowedOrigins) == 0 {
			w.AllowedOrigins = splitList(*origins)
		}
		if w.Issuer == "" || w.JWKSURL == "" {
			return usageError("widget %s in %s names no issuer or JWKS URL: pass --issuer and --jwks-url (your site's token issuer and keys)", w.ID, *file)
		}
	}
	st, err := e.store()
	if err != nil {
		return err
	}
	applied, err := st.ApplyConfig(e.ctx, cfg, *ifAbsent)
	if err != nil {
		return fmt.Errorf("%s: %w", *file, err)
	}
	rows := make([][]string, 0, len(applied))
	for _, a := range applied {
		rows = append(rows, []string{a.Kind, a.ID, a.Result})
	}
	return e.print(applied, []string{"KIND", "ID", "RESULT"}, rows)
}

// ---------------------------------------------------------------- widgets

func widgetRow(w conversation.Widget) []string {
	return []string{w.ID, w.Workstream, w.Issuer, w.JWKSURL, strings.Join(w.AllowedOrigins, ",")}
}

var widgetHeader = []string{"ID", "WORKSTREAM", "ISSUER", "JWKS URL", "ORIGINS"}

// setting is one kind of stored setting as the list, get and delete
// commands show it: its name, table columns, and how the store reads and
// deletes it.
type setting[T any] struct {
	name   string // singular, as in "widgets get ID"
	plural string
	header []string
	row    func(T) []string
	list   func(*store.Store, context.Context) ([]T, error)
	get    func(*store.Store, context.Context, string) (T, error)
	delete func(*store.Store, context.Context, string) error
}

var widgets = setting[conversation.Widget]{
	name: "widget", plural: "widgets", header: widgetHeader, row: widgetRow,
	list: (*store.Store).Widgets, get: (*store.Store).Widget, delete: (*store.Store).DeleteWidget,
}

var workstreams = setting[store.WorkstreamConfig]{
	name: "workstream", plural: "workstreams", header: workstreamHeader, row: workstreamRow,
	list: (*store.Store).WorkstreamConfigs, get: (*store.Store).WorkstreamConfigOf,
}

func (k setting[T]) listCmd(e *env, args []string) error {
	fs := e.flags(k.plural+" list", k.plural+" list")
	if _, err := e.parse(fs, args, 0); err != nil {
		return err
	}
	st, err := e.store()
	if err != nil {
		return err
	}
	all, err := k.list(st, e.ctx)
	if err != nil {
		return err
	}
	rows := make([][]string, 0, len(all))
	for _, v := range all {
		rows = append(rows, k.row(v))
	}
	return e.print(all, k.header, rows)
}

// one parses a command on one setting (its id positional or --id) and
// opens the store.
func (k setting[T]) one(e *env, verb string, args []string) (*store.Store, string, error) {
	fs := e.flags(k.plural+" "+verb, k.plural+" "+verb+" ID")
	id := fs.String("id", "", "the "+k.name+"'s id")
	pos, err := e.parse(fs, args, 1)
	if err != nil {
		return nil, "", err
	}
	sid, err := idArg(pos, *id, k.name)
	if err != nil {
		return nil, "", err
	}
	st, err := e.store()
	return st, sid, err
}

func (k setting[T]) getCmd(e *env, args []string) error {
	st, id, err := k.one(e, "get", args)
	if err != nil {
		return err
	}
	v, err := k.get(st, e.ctx, id)
	if err != nil {
		return notFound(err, k.name+" "+id)
	}
	return e.print(v, k.header, [][]string{k.row(v)})
}

func (k setting[T]) deleteCmd(e *env, args []string) error {
	st, id, err := k.one(e, "delete", args)
	if err != nil {
		return err
	}
	if err := k.delete(st, e.ctx, id); err != nil {
		return notFound(err, k.name+" "+id)
	}
	return e.print(map[string]string{"deleted": id}, []string{"DELETED"}, [][]string{{id}})
}

// idArg is a command's one id: positional, or its flag.
func idArg(pos []string, flagValue, what string) (string, error) {
	switch {
	case len(pos) == 1 && flagValue != "" && pos[0] != flagValue:
		return "", usageError("two %s ids: %q and %q", what, pos[0], flagValue)
	case len(pos) == 1:
		return pos[0], nil
	case flagValue != "":
		return flagValue, nil
	}
	return "", usageError("which %s? give its id", what)
}

func widgetsPut(e *env, args []string) error {
	fs := e.flags("widgets put", "widgets put ID --workstream W --issuer URL --jwks-url URL [--origins LIST]")
	id := fs.String("id", "", "the widget's id: its customer tokens' aud and its script tag's data-widget")
	ws := fs.String("workstream", "", "the workstream its conversations go to")
	issuer := fs.String("issuer", "", "the iss of its customer tokens (your site)")
	jwks := fs.String("jwks-url", "", "where your site publishes those tokens' public keys")
	origins := fs.String("origins", "", "comma-separated origins of the pages that embed it (https://www.example.com)")
	pos, err := e.parse(fs, args, 1)
	if err != nil {
		return err
	}
	wid, err := idArg(pos, *id, "widget")
	if err != nil {
		return err
	}
	st, err := e.store()
	if err != nil {
		return err
	}
	// An existing widget is changed only in the flags given.
	w, err := st.Widget(e.ctx, wid)
	if err != nil && !errors.Is(err, conversation.ErrNotFound) {
		return err
	}
	w.ID = wid
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "workstream":
			w.Workstream = *ws
		case "issuer":
			w.Issuer = *issuer
		case "jwks-url":
			w.JWKSURL = *jwks
		case "origins":
			w.AllowedOrigins = splitList(*origins)
		}
	})
	if err := store.ValidateWidget(w); err != nil {
		return usageError("%v", err)
	}
	if _, err := st.Workstream(e.ctx, w.Workstream); err != nil {
		return notFound(err, fmt.Sprintf("workstream %s (store it first: parleyctl workstreams put)", w.Workstream))
	}
	if err := st.PutWidget(e.ctx, w, false); err != nil {
		return err
	}
	return e.print(w, widgetHeader, [][]string{widgetRow(w)})
}

// ---------------------------------------------------------------- workstreams

var workstreamHeader = []string{"ID", "MODE", "HOURS", "KEEP SAME AGENT", "UNITS", "REQUEUE AFTER"}

func workstreamRow(w store.WorkstreamConfig) []string {
	hours := "never open"
	switch {
	case w.Hours.AlwaysOpen:
		hours = "always open"
	case len(w.Hours.Weekly) > 0:
		var days []string
		for _, d := range []string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"} {
			if spans := w.Hours.Weekly[d]; len(spans) > 0 {
				days = append(days, d[:3]+" "+strings.Join(spans, ","))
			}
		}
		hours = strings.Join(days, "; ")
	}
	if w.Hours.TimeZone != "" {
		hours += " (" + w.Hours.TimeZone + ")"
	}
	if n := len(w.Hours.Holidays); n > 0 {
		hours += fmt.Sprintf(", %d holidays", n)
	}
	units := w.Units
	if units == 0 {
		units = conversation.DefaultUnits
	}
	requeue := "never"
	if w.RequeueReturnedAfterSeconds > 0 {
		requeue = (time.Duration(w.RequeueReturnedAfterSeconds) * time.Second).String()
	}
	return []string{w.ID, w.Mode, hours, strconv.FormatBool(w.KeepSameAgent), strconv.Itoa(units), requeue}
}

// weeklyFlag collects --weekly DAY=SPAN[,SPAN] flags.
type weeklyFlag map[string][]string

func (w weeklyFlag) String() string { return "" }
func (w weeklyFlag) Set(v string) error {
	day, spans, ok := strings.Cut(v, "=")
	if !ok {
		return fmt.Errorf("want DAY=HH:MM-HH:MM[,HH:MM-HH:MM], got %q", v)
	}
	w[strings.ToLower(strings.TrimSpace(day))] = append(w[strings.ToLower(strings.TrimSpace(day))], splitList(spans)...)
	return nil
}

func workstreamsPut(e *env, args []string) error {
	fs := e.flags("workstreams put", "workstreams put ID [-f FILE] [flags]")
	id := fs.String("id", "", "the workstream's id")
	file := fs.String("f", "", "the workstream as YAML or JSON (the fields of parleyctl workstreams get --output json); flags given override it")
	mode := fs.String("mode", "", "persistent or live")
	zone := fs.String("time-zone", "", "the IANA time zone of its hours (Europe/Oslo)")
	always := fs.Bool("always-open", false, "open at all hours")
	weekly := weeklyFlag{}
	fs.Var(weekly, "weekly", "opening hours of a weekday, DAY=HH:MM-HH:MM[,HH:MM-HH:MM] (repeatable; replaces the stored week)")
	holidays := fs.String("holidays", "", "comma-separated closed dates, YYYY-MM-DD")
	keep := fs.Bool("keep-same-agent", false, "a customer coming back to a parked conversation gets the same agent")
	units := fs.Int("units", 0, "capacity units a conversation takes from its agent (default 1)")
	requeue := fs.Duration("requeue-after", 0, "send a returned conversation back to the queue when its agent stays away this long (0: never)")
	inactivity := fs.Duration("inactivity-timeout", 0, "close a quiet conversation after this long (0: the mode's default)")
	reminder := fs.Duration("reminder-interval", 0, "how often to remind an agent of a returned conversation (0: 15m)")
	queueText := fs.String("queue-position-text", "", "live chat's queue message ({position})")
	waitText := fs.String("average-wait-text", "", "live chat's wait message ({minutes}, {seconds})")
	pos, err := e.parse(fs, args, 1)
	if err != nil {
		return err
	}
	wid, err := idArg(pos, *id, "workstream")
	if err != nil && *file == "" {
		return err
	}
	st, err := e.store()
	if err != nil {
		return err
	}
	var w store.WorkstreamConfig
	if *file != "" {
		b, err := os.ReadFile(*file)
		if err != nil {
			return fmt.Errorf("read workstream: %w", err)
		}
		if err := decodeStrict(b, &w); err != nil {
			return usageError("%s: %v", *file, err)
		}
		if wid == "" {
			wid = w.ID
		}
	} else if w, err = st.WorkstreamConfigOf(e.ctx, wid); err != nil && !errors.Is(err, conversation.ErrNotFound) {
		return err // an existing workstream changes only in the flags given
	}
	w.ID = wid
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "mode":
			w.Mode = *mode
		case "time-zone":
			w.Hours.TimeZone = *zone
		case "always-open":
			w.Hours.AlwaysOpen = *always
		case "weekly":
			w.Hours.Weekly = weekly
		case "holidays":
			w.Hours.Holidays = splitList(*holidays)
		case "keep-same-agent":
			w.KeepSameAgent = *keep
		case "units":
			w.Units = *units
		case "requeue-after":
			w.RequeueReturnedAfterSeconds = int64(requeue.Seconds())
		case "inactivity-timeout":
			w.InactivityTimeoutSeconds = int64(inactivity.Seconds())
		case "reminder-interval":
			w.ReminderIntervalSeconds = int64(reminder.Seconds())
		case "queue-position-text":
			w.Texts.QueuePosition = *queueText
		case "average-wait-text":
			w.Texts.AverageWait = *waitText
		}
	})
	if err := store.ValidateWorkstream(w); err != nil {
		return usageError("%v", err)
	}
	if err := st.PutWorkstream(e.ctx, w, false); err != nil {
		return err
	}
	return e.print(w, workstreamHeader, [][]string{workstreamRow(w)})
}

// decodeStrict decodes YAML or JSON into v through JSON, refusing unknown
// fields (the stored settings' field names are the file's).
func decodeStrict(b []byte, v any) error {
	var doc any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return err
	}
	j, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}
