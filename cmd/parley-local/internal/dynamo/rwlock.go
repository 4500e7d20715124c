package dynamo

import (
	"context"
	"errors"
	"slices"
	"sync"
)

// errStoreClosing is what a wait for the write lock ends with when the
// store closes meanwhile.
var errStoreClosing = errors.New("the local DynamoDB store is closing")

// rwLock is a readers-writer lock whose waits end when the caller's
// context does or the store closes: a request whose client has gone (an
// invocation that timed out cancels its SDK call, which closes the
// connection) leaves the queue instead of doing its work for nobody.
// Waiters are served in arrival order: a writer waits for the readers
// ahead of it, and readers behind a waiting writer wait for it, so
// neither side starves.
type rwLock struct {
	mu      sync.Mutex
	readers int  // holding the lock
	writer  bool // a writer holds the lock
	queue   []*lockWaiter
}

type lockWaiter struct {
	write bool
	ready chan struct{} // closed when the lock is granted
}

// Lock and Unlock, RLock and RUnlock are the unconditional forms, for the
// store's own work (replay, compaction, TTL sweeps, checks).
func (l *rwLock) Lock()    { _ = l.acquire(context.Background(), nil, true) }
func (l *rwLock) Unlock()  { l.release(true) }
func (l *rwLock) RLock()   { _ = l.acquire(context.Background(), nil, false) }
func (l *rwLock) RUnlock() { l.release(false) }

// lock takes the lock for writing, unless ctx ends or stop closes first.
func (l *rwLock) lock(ctx context.Context, stop <-chan struct{}) error {
	return l.acquire(ctx, stop, true)
}

// rlock takes the lock for reading, unless ctx ends or stop closes first.
func (l *rwLock) rlock(ctx context.Context, stop <-chan struct{}) error {
	return l.acquire(ctx, stop, false)
}

func (l *rwLock) free(write bool) bool {
	if write {
		return !l.writer && l.readers == 0
	}
	return !l.writer
}

func (l *rwLock) take(write bool) {
	if write {
		l.writer = true
	} else {
		l.readers++
	}
}

// grant hands the lock to the waiters at the head of the queue that can
// have it now. The caller holds mu.
func (l *rwLock) grant() {
	for len(l.queue) > 0 && l.free(l.queue[0].write) {
		w := l.queue[0]
		l.queue = l.queue[1:]
		l.take(w.write)
		close(w.ready)
	}
}

func (l *rwLock) acquire(ctx context.Context, stop <-chan struct{}, write bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	if len(l.queue) == 0 && l.free(write) {
		l.take(write)
		l.mu.Unlock()
		return nil
	}
	w := &lockWaiter{write: write, ready: make(chan struct{})}
	l.queue = append(l.queue, w)
	l.mu.Unlock()

	var err error
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		err = ctx.Err()
	case <-stop:
		err = errStoreClosing
	}
	l.mu.Lock()
	select {
	case <-w.ready:
		// Granted while giving up: hand it on.
		l.mu.Unlock()
		l.release(write)
		return err
	default:
	}
	if i := slices.Index(l.queue, w); i >= 0 {
		l.queue = slices.Delete(l.queue, i, i+1)
	}
	l.grant() // a writer leaving may let the readers behind it in
	l.mu.Unlock()
	return err
}

func (l *rwLock) release(write bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if write {
		if !l.writer {
			panic("dynamo: unlock of an unlocked write lock")
		}
		l.writer = false
	} else {
		if l.readers <= 0 {
			panic("dynamo: read unlock of a lock no reader holds")
		}
		l.readers--
	}
	l.grant()
}
