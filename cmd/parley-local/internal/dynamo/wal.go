package dynamo

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// On disk, Dir holds:
//
//	snapshot          every table and item as of generation G (absent before the first compaction)
//	log-G             every change since that snapshot, appended as it is acknowledged
//
// Both are sequences of frames: 4 bytes little-endian payload length, 4 bytes
// CRC-32C of the payload, then the payload, one JSON logRecord. A snapshot
// is written beside and renamed into place, so it is whole or absent; the
// log's tail may be torn by a crash and is cut at the first bad frame.

const (
	snapshotFile = "snapshot"
	frameHeader  = 8
	maxFrame     = 64 << 20 // far above any record (items are ≤400 KB); a larger length is garbage
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Log record operations.
const (
	opSnapshot  = "snapshot" // first record of a snapshot, carrying its generation
	opEnd       = "end"      // last record of a snapshot
	opTable     = "table"    // a table's whole definition after CreateTable, UpdateTable or UpdateTimeToLive
	opDropTable = "dropTable"
	opPut       = "put"    // an item's after-image
	opDelete    = "delete" // an item's key, deleted
)

// logRecord is one change, or one snapshot entry. Items are after-images,
// so replaying a record twice does no harm.
type logRecord struct {
	Op     string          `json:"op"`
	Gen    uint64          `json:"gen,omitempty"`
	Table  string          `json:"table,omitempty"`
	Def    *tableDef       `json:"def,omitempty"`
	Update json.RawMessage `json:"update,omitempty"` // the UpdateTable input, replayed on the existing table
	Item   attrs           `json:"item,omitempty"`
	Key    attrs           `json:"key,omitempty"`
}

func logPath(dir string, gen uint64) string {
	return filepath.Join(dir, "log-"+strconv.FormatUint(gen, 10))
}

func appendFrame(buf []byte, rec logRecord) ([]byte, error) {
	payload, err := json.Marshal(rec)
	if err != nil {
		return buf, fmt.Errorf("encode %s record: %w", rec.Op, err)
	}
	buf = binary.LittleEndian.AppendUint32(buf, uint32(len(payload)))
	buf = binary.LittleEndian.AppendUint32(buf, crc32.Checksum(payload, castagnoli))
	return append(buf, payload...), nil
}

// readFrames calls fn with each intact record of r in order. It returns the
// offset just past the last intact frame and whether anything after it was
// torn or corrupt; err is an I/O error or fn's.
func readFrames(r io.Reader, fn func(logRecord) error) (good int64, torn bool, err error) {
	br := bufio.NewReaderSize(r, 1<<20)
	var hdr [frameHeader]byte
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return good, false, nil
			}
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return good, true, nil
			}
			return good, false, err
		}
		n := binary.LittleEndian.Uint32(hdr[:4])
		if n == 0 || n > maxFrame {
			return good, true, nil // zeros from a preallocated block, or garbage
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(br, payload); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return good, true, nil
			}
			return good, false, err
		}
		if crc32.Checksum(payload, castagnoli) != binary.LittleEndian.Uint32(hdr[4:]) {
			return good, true, nil
		}
		var rec logRecord
		if err := json.Unmarshal(payload, &rec); err != nil {
			// The checksum held, so this is no torn write but a record this
			// code cannot read; stopping silently would drop data.
			return good, false, fmt.Errorf("decode record at offset %d: %w", good, err)
		}
		if err := fn(rec); err != nil {
			return good, false, fmt.Errorf("apply %s record at offset %d: %w", rec.Op, good, err)
		}
		good += frameHeader + int64(n)
	}
}

// wal is the write-ahead log of one directory: appends go to the OS at once
// (surviving a crash of the process), fsync runs every FlushInterval
// (surviving a crash of the machine), compaction rotates it.
type wal struct {
	dir string
	log *slog.Logger

	// syncMu is held across an fsync so that rotate never closes the file
	// under it; it is taken before mu.
	syncMu sync.Mutex
	mu     sync.Mutex // guards the fields below
	f      *os.File
	gen    uint64
	size   int64
	dirty  bool  // appended since the last fsync
	broken error // set when a failed append could not be cut off; every later append fails
}

// openWAL replays the directory's snapshot and log through apply and opens
// the log for appending. A torn or corrupt log tail is cut off and logged;
// a damaged snapshot is an error, since snapshots are renamed into place
// whole.
func openWAL(dir string, log *slog.Logger, apply func(logRecord) error) (*wal, error) {
	gen, err := readSnapshot(filepath.Join(dir, snapshotFile), apply)
	if err != nil {
		return nil, err
	}
	path := logPath(dir, gen)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open log %s: %w", path, err)
	}
	good, torn, err := readFrames(f, apply)
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("replay log %s: %w", path, err)
	}
	if torn {
		st, _ := f.Stat()
		log.Warn("discarding the torn tail of the write-ahead log, left by a crash",
			"path", path, "keptBytes", good, "discardedBytes", st.Size()-good)
		if err := f.Truncate(good); err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("cut torn tail of log %s: %w", path, err)
		}
		if err := f.Sync(); err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("fsync log %s: %w", path, err)
		}
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("close log %s: %w", path, err)
	}
	// O_APPEND keeps every write at the end, also after a failed write was
	// cut off with Truncate.
	f, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open log %s: %w", path, err)
	}
	removeStale(dir, gen, log)
	if err := syncDir(dir); err != nil {
		_ = f.Close()
		return nil, err
	}
	return &wal{dir: dir, log: log, f: f, gen: gen, size: good}, nil
}

// readSnapshot applies a snapshot's records and returns its generation, 0
// when there is no snapshot yet.
func readSnapshot(path string, apply func(logRecord) error) (uint64, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("open snapshot %s: %w", path, err)
	}
	defer f.Close()
	var gen uint64
	n, ended := 0, false
	_, torn, err := readFrames(f, func(rec logRecord) error {
		defer func() { n++ }()
		switch {
		case n == 0 && rec.Op != opSnapshot:
			return fmt.Errorf("starts with %q, not a snapshot header", rec.Op)
		case n == 0:
			gen = rec.Gen
			return nil
		case ended:
			return errors.New("records after the end marker")
		case rec.Op == opEnd:
			ended = true
			return nil
		}
		return apply(rec)
	})
	if err != nil {
		return 0, fmt.Errorf("read snapshot %s: %w", path, err)
	}
	if torn || !ended {
		return 0, fmt.Errorf("read snapshot %s: damaged or incomplete; it was renamed into place whole, so the disk lost data", path)
	}
	return gen, nil
}

// removeStale deletes what an interrupted compaction leaves: a temporary
// snapshot, and logs of other generations.
func removeStale(dir string, gen uint64, log *slog.Logger) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		log.Warn("list data directory", "dir", dir, "err", err)
		return
	}
	for _, e := range entries {
		name := e.Name()
		stale := name == snapshotFile+".tmp"
		if rest, ok := strings.CutPrefix(name, "log-"); ok {
			g, err := strconv.ParseUint(rest, 10, 64)
			stale = err == nil && g != gen
		}
		if stale {
			if err := os.Remove(filepath.Join(dir, name)); err != nil {
				log.Warn("remove stale file", "path", filepath.Join(dir, name), "err", err)
			}
		}
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}

// append writes records to the log in one write; they reach the disk with
// the next sync.
func (w *wal) append(recs []logRecord) error {
	var buf []byte
	for _, r := range recs {
		var err error
		if buf, err = appendFrame(buf, r); err != nil {
			return err
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.broken != nil {
		return w.broken
	}
	n, err := w.f.Write(buf)
	if err != nil {
		// A partial frame would hide every later record from replay, so cut
		// it off; if that fails too, stop accepting writes.
		if terr := w.f.Truncate(w.size); terr != nil {
			w.broken = fmt.Errorf("log %s unusable after a failed append: %w", w.f.Name(), errors.Join(err, terr))
		}
		return fmt.Errorf("append to log %s: %w", w.f.Name(), err)
	}
	w.size += int64(n)
	w.dirty = true
	return nil
}

func (w *wal) length() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.size
}

// sync fsyncs what was appended since the last sync.
func (w *wal) sync() error {
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	w.mu.Lock()
	f, dirty := w.f, w.dirty
	w.dirty = false
	w.mu.Unlock()
	if !dirty {
		return nil
	}
	if err := f.Sync(); err != nil {
		w.mu.Lock()
		w.dirty = true
		w.mu.Unlock()
		return fmt.Errorf("fsync log %s: %w", f.Name(), err)
	}
	return nil
}

// rotate writes a snapshot of generation gen+1 with the records fill emits
// and switches to an empty log of that generation. The caller keeps writes
// out meanwhile, so the snapshot and the new log meet exactly. If it fails
// before the snapshot is renamed into place, nothing changed.
func (w *wal) rotate(fill func(emit func(logRecord) error) error) (err error) {
	w.mu.Lock()
	gen := w.gen + 1
	w.mu.Unlock()
	newPath := logPath(w.dir, gen)
	tmpPath := filepath.Join(w.dir, snapshotFile+".tmp")
	nf, err := os.OpenFile(newPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("create log %s: %w", newPath, err)
	}
	renamed := false
	defer func() {
		if err != nil && !renamed {
			_ = nf.Close()
			_ = os.Remove(newPath)
			_ = os.Remove(tmpPath)
		}
	}()

	sf, err := os.Create(tmpPath)
	if err != nil {
		return fmt.Errorf("create snapshot %s: %w", tmpPath, err)
	}
	defer sf.Close() // after the explicit Close below this only reports ErrClosed, ignored
	bw := bufio.NewWriterSize(sf, 1<<20)
	var frame []byte
	emit := func(r logRecord) error {
		var err error
		if frame, err = appendFrame(frame[:0], r); err != nil {
			return err
		}
		_, err = bw.Write(frame)
		return err
	}
	if err := emit(logRecord{Op: opSnapshot, Gen: gen}); err != nil {
		return fmt.Errorf("write snapshot %s: %w", tmpPath, err)
	}
	if err := fill(emit); err != nil {
		return fmt.Errorf("write snapshot %s: %w", tmpPath, err)
	}
	if err := emit(logRecord{Op: opEnd}); err != nil {
		return fmt.Errorf("write snapshot %s: %w", tmpPath, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write snapshot %s: %w", tmpPath, err)
	}
	if err := sf.Sync(); err != nil {
		return fmt.Errorf("fsync snapshot %s: %w", tmpPath, err)
	}
	if err := sf.Close(); err != nil {
		return fmt.Errorf("close snapshot %s: %w", tmpPath, err)
	}
	if err := os.Rename(tmpPath, filepath.Join(w.dir, snapshotFile)); err != nil {
		return fmt.Errorf("rename snapshot %s: %w", tmpPath, err)
	}
	renamed = true
	// From here the new snapshot is the truth whatever happens: a restart
	// reads it and the (possibly absent) new log, and removes the old one.
	syncErr := syncDir(w.dir)

	w.syncMu.Lock()
	w.mu.Lock()
	old, oldPath := w.f, logPath(w.dir, w.gen)
	w.f, w.gen, w.size, w.dirty, w.broken = nf, gen, 0, false, nil
	w.mu.Unlock()
	w.syncMu.Unlock()
	_ = old.Close()
	if err := os.Remove(oldPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
		w.log.Warn("remove old log", "path", oldPath, "err", err)
	}
	return syncErr
}

// close fsyncs and closes the log.
func (w *wal) close() error {
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	w.mu.Lock()
	defer w.mu.Unlock()
	err := w.f.Sync()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("close log %s: %w", w.f.Name(), err)
	}
	return nil
}

// abandon closes the log without an fsync, as a crash would leave it.
func (w *wal) abandon() {
	w.mu.Lock()
	defer w.mu.Unlock()
	_ = w.f.Close()
}
