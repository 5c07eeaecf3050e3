package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"runtime/debug"
)

// maxGroup bounds how many transactions one SQLite commit carries, so one
// group's latency stays bounded under any load.
const maxGroup = 256

// writeJob is one WriteTx call waiting for the SQLite writer.
type writeJob struct {
	ctx  context.Context
	fn   func(*Tx) error
	done chan error
}

// panicError carries a panic from fn on the writer goroutine back to the
// goroutine that called WriteTx, which re-panics with it.
type panicError struct {
	value any
	stack []byte
}

func (p *panicError) Error() string { return fmt.Sprintf("panic in transaction: %v", p.value) }

// groupWriter runs every SQLite write on one goroutine and commits them in
// groups: while one commit is being synced to disk, the next calls queue, and
// the writer then runs all of them inside one transaction, each in its own
// savepoint, and commits once. Each call still succeeds or fails on its own
// (a failing fn rolls back to its savepoint), runs serially after the ones
// before it, and returns only once its group is durable. This turns the cost
// of an fsync per write into an fsync per group: that is the whole of SQLite's
// write throughput under concurrent load.
type groupWriter struct {
	db    *sql.DB
	stmts *stmtCache
	jobs  chan writeJob
	stop  chan struct{}
	ended chan struct{}
}

func newGroupWriter(db *sql.DB, stmts *stmtCache) *groupWriter {
	g := &groupWriter{db: db, stmts: stmts, jobs: make(chan writeJob, maxGroup), stop: make(chan struct{}), ended: make(chan struct{})}
	go g.loop()
	return g
}

// close stops the writer after the group in progress; queued calls fail.
func (g *groupWriter) close() {
	close(g.stop)
	<-g.ended
}

func (g *groupWriter) do(ctx context.Context, fn func(*Tx) error) error {
	select {
	case <-g.stop:
		return errClosed
	default:
	}
	job := writeJob{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case g.jobs <- job:
	case <-ctx.Done():
		return ctx.Err()
	case <-g.stop:
		return errClosed
	}
	// Once queued the job runs to its end even if ctx is cancelled meanwhile:
	// the caller must learn whether it committed.
	var err error
	select {
	case err = <-job.done:
	case <-g.ended:
		// The writer stopped; it answered every job it saw before ending.
		select {
		case err = <-job.done:
		default:
			return errClosed
		}
	}
	if p, ok := err.(*panicError); ok {
		panic(fmt.Sprintf("%v\n\nwriter goroutine stack:\n%s", p.value, p.stack))
	}
	return err
}

var errClosed = fmt.Errorf("database is closed")

func (g *groupWriter) loop() {
	defer close(g.ended)
	batch := make([]writeJob, 0, maxGroup)
	results := make([]error, 0, maxGroup)
	for {
		select {
		case <-g.stop:
			g.drain()
			return
		case job := <-g.jobs:
			batch = append(batch[:0], job)
		}
	fill:
		for len(batch) < maxGroup {
			select {
			case job := <-g.jobs:
				batch = append(batch, job)
			default:
				break fill
			}
		}
		results = g.run(batch, results[:0])
		for i, job := range batch {
			job.done <- results[i]
			batch[i] = writeJob{}
		}
	}
}

// drain fails every queued job after close.
func (g *groupWriter) drain() {
	for {
		select {
		case job := <-g.jobs:
			job.done <- errClosed
		default:
			return
		}
	}
}

// run executes one group and returns each job's outcome.
func (g *groupWriter) run(batch []writeJob, results []error) []error {
	for range batch {
		results = append(results, nil)
	}
	// Only the writer's own context governs the transaction: cancelling a
	// statement interrupts SQLite, which would roll back the whole group.
	ctx := context.Background()
	stx, err := g.db.BeginTx(ctx, nil)
	if err != nil {
		for i := range results {
			results[i] = fmt.Errorf("begin transaction: %w", err)
		}
		return results
	}
	tx := &Tx{tx: stx, engine: SQLite, detach: true, stmts: g.stmts}
	committed := 0
	for i, job := range batch {
		if err := job.ctx.Err(); err != nil {
			results[i] = err // gave up before it started: nothing was written
			continue
		}
		if _, err := stx.ExecContext(ctx, "SAVEPOINT job"); err != nil {
			results[i] = fmt.Errorf("savepoint: %w", err)
			continue
		}
		err := runJob(tx, job.fn)
		if err != nil {
			if _, rerr := stx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT job"); rerr != nil {
				// The transaction is unusable; fail the whole group.
				stx.Rollback()
				for j := range results {
					if results[j] == nil {
						results[j] = fmt.Errorf("roll back to savepoint: %w", rerr)
					}
				}
				results[i] = err
				return results
			}
		}
		if _, rerr := stx.ExecContext(ctx, "RELEASE SAVEPOINT job"); rerr != nil && err == nil {
			err = fmt.Errorf("release savepoint: %w", rerr)
		}
		results[i] = err
		if err == nil {
			committed++
		}
	}
	if committed == 0 {
		stx.Rollback()
		return results
	}
	if err := stx.Commit(); err != nil {
		for i := range results {
			if results[i] == nil {
				results[i] = fmt.Errorf("commit: %w", err)
			}
		}
	}
	return results
}

// runJob calls fn, turning a panic into a *panicError for its caller.
func runJob(tx *Tx, fn func(*Tx) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &panicError{value: p, stack: debug.Stack()}
		}
	}()
	return fn(tx)
}
