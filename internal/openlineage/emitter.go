package openlineage

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
)

// Emitter delivers events in the background through a bounded queue and
// one worker, so that whoever produces them (a command watching a run)
// never waits on the receiver. When the queue is full an event is dropped,
// counted and logged rather than blocking.
type Emitter struct {
	t     Transport
	log   *slog.Logger
	queue chan RunEvent
	done  chan struct{}
	// ctx stops the delivery in progress when Close gives up.
	ctx    context.Context
	cancel context.CancelFunc

	mu     sync.Mutex
	closed bool

	sent, failed, dropped atomic.Int64
}

// EmitterOptions tune an Emitter.
type EmitterOptions struct {
	// QueueSize bounds the events waiting (default 1000).
	QueueSize int
	// Logger receives a line per dropped or undeliverable event (default
	// slog.Default()).
	Logger *slog.Logger
}

// Stats count what an Emitter did.
type Stats struct {
	// Sent were delivered, Failed were refused or undeliverable after the
	// transport's retries, Dropped never reached the transport (queue full,
	// or still queued when Close gave up).
	Sent, Failed, Dropped int64
}

// NewEmitter starts an Emitter's worker; Close stops it.
func NewEmitter(t Transport, o EmitterOptions) *Emitter {
	if o.QueueSize <= 0 {
		o.QueueSize = 1000
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &Emitter{t: t, log: o.Logger, queue: make(chan RunEvent, o.QueueSize), done: make(chan struct{}), ctx: ctx, cancel: cancel}
	go e.work()
	return e
}

func (e *Emitter) work() {
	defer close(e.done)
	for ev := range e.queue {
		if e.ctx.Err() != nil {
			e.dropped.Add(1)
			continue
		}
		if err := e.t.Send(e.ctx, ev); err != nil {
			e.failed.Add(1)
			e.log.Warn("OpenLineage event not delivered", "event", string(ev.EventType), "job", ev.Job.Name, "run_id", ev.Run.RunID, "error", err)
			continue
		}
		e.sent.Add(1)
	}
}

// Emit queues ev without waiting. It returns false when ev was dropped:
// the queue was full or the Emitter closed.
func (e *Emitter) Emit(ev RunEvent) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	reason := "closed"
	if !e.closed {
		select {
		case e.queue <- ev:
			return true
		default:
			reason = "queue full"
		}
	}
	n := e.dropped.Add(1)
	e.log.Warn("OpenLineage event dropped", "reason", reason, "event", string(ev.EventType), "job", ev.Job.Name, "dropped", n)
	return false
}

// Close stops taking events and waits until the queued ones are delivered
// or ctx ends; what is left then is dropped. It returns the counts.
func (e *Emitter) Close(ctx context.Context) Stats {
	e.mu.Lock()
	if !e.closed {
		e.closed = true
		close(e.queue)
	}
	e.mu.Unlock()
	select {
	case <-e.done:
	case <-ctx.Done():
		e.cancel()
		<-e.done
	}
	e.cancel()
	return e.Stats()
}

// Stats returns the counts so far.
func (e *Emitter) Stats() Stats {
	return Stats{Sent: e.sent.Load(), Failed: e.failed.Load(), Dropped: e.dropped.Load()}
}
