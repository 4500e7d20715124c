package conversation

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"io"
	"sync"
	"time"
)

// Lambda's provided.al2023 runtime has no zoneinfo database, so the zones
// ship inside the binary, as time/tzdata would ship them, but compressed:
// time/tzdata stores its 400 KB uncompressed, the largest single part of a
// function's binary after the runtime, TLS and the SDK; gzipped it is a
// quarter of that, unpacked on the first zone the system does not know.
//
// zoneinfo.zip.gz is Go's own lib/time/zoneinfo.zip, gzipped; bring it up to
// date with the Go release in use:
//
//go:generate sh -c "gzip -9 -n -c \"$(go env GOROOT)/lib/time/zoneinfo.zip\" > zoneinfo.zip.gz"
//go:embed zoneinfo.zip.gz
var zoneinfoGz []byte

var embedded = sync.OnceValues(func() (*zip.Reader, error) {
	r, err := gzip.NewReader(bytes.NewReader(zoneinfoGz))
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return zip.NewReader(bytes.NewReader(b), int64(len(b)))
})

// loadZone is time.LoadLocation, falling back on the embedded database
// when the system has none or not this zone.
func loadZone(name string) (*time.Location, error) {
	loc, err := time.LoadLocation(name)
	if err == nil {
		return loc, nil
	}
	if loc, embErr := embeddedZone(name); embErr == nil {
		return loc, nil
	}
	return nil, err
}

// embeddedZone reads name from the embedded database.
func embeddedZone(name string) (*time.Location, error) {
	db, err := embedded()
	if err != nil {
		return nil, fmt.Errorf("embedded zone database: %w", err)
	}
	f, err := db.Open(name)
	if err != nil {
		return nil, fmt.Errorf("embedded zone %s: %w", name, err)
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("embedded zone %s: %w", name, err)
	}
	return time.LoadLocationFromTZData(name, data)
}
