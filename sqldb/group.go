package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"runtime/debug"
	"sync/atomic"
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

	groups, txs atomic.Int64 // commits attempted, and the calls they carried
	// optimisticFailures counts groups run again with savepoints because a
	// call in them failed.
	optimisticFailures atomic.Int64
	isolate            bool // the last group had a failure: use savepoints (writer goroutine only)
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
		g.groups.Add(1)
		g.txs.Add(int64(len(batch)))
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
//
// It first runs the group optimistically, without savepoints: a savepoint
// per call costs the statements that open and release it, and it makes
// SQLite's full-text index write its pending terms out at every release
// instead of once per commit. If any call fails, that attempt is rolled back
// whole and the group runs again with a savepoint around each call, so that
// only the failing ones are undone. (Every fn may run more than once; see
// WriteTx.) After a group with a failure, the next one starts with
// savepoints, so that a stream of failing calls does not run everything twice.
func (g *groupWriter) run(batch []writeJob, results []error) []error {
	for range batch {
		results = append(results, nil)
	}
	if !g.isolate {
		if g.runOptimistic(batch, results) {
			return results
		}
		g.optimisticFailures.Add(1)
		clear(results)
	}
	g.isolate = g.runIsolated(batch, results)
	return results
}

// begin starts the group's transaction. Only the writer's own context
// governs it: cancelling a statement interrupts SQLite, which would roll
// back the whole group.
func (g *groupWriter) begin() (*Tx, error) {
	stx, err := g.db.BeginTx(context.Background(), nil)
	if err != nil {
		return nil, fmt.Errorf("begin transaction: %w", err)
	}
	return &Tx{tx: stx, engine: SQLite, detach: true, stmts: g.stmts}, nil
}

// runOptimistic runs every job in one transaction without savepoints and
// commits. It returns false, having rolled back, if any job failed.
func (g *groupWriter) runOptimistic(batch []writeJob, results []error) bool {
	tx, err := g.begin()
	if err != nil {
		failAll(results, err)
		return true
	}
	ran := 0
	for i, job := range batch {
		if err := job.ctx.Err(); err != nil {
			results[i] = err // gave up before it started: nothing was written
			continue
		}
		if err := runJob(tx, job.fn); err != nil {
			tx.tx.Rollback()
			return false
		}
		ran++
	}
	g.commit(tx, ran, results)
	return true
}

// runIsolated runs each job in its own savepoint, so that a failing job
// undoes only its own writes, and commits the rest. It reports whether any
// job failed.
func (g *groupWriter) runIsolated(batch []writeJob, results []error) (failed bool) {
	ctx := context.Background()
	tx, err := g.begin()
	if err != nil {
		failAll(results, err)
		return true
	}
	committed := 0
	for i, job := range batch {
		if err := job.ctx.Err(); err != nil {
			results[i] = err
			continue
		}
		if _, err := tx.ExecContext(ctx, "SAVEPOINT job"); err != nil {
			results[i] = fmt.Errorf("savepoint: %w", err)
			failed = true
			continue
		}
		err := runJob(tx, job.fn)
		if err != nil {
			failed = true
			if _, rerr := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT job"); rerr != nil {
				// The transaction is unusable; fail the whole group.
				tx.tx.Rollback()
				for j := range results {
					if results[j] == nil {
						results[j] = fmt.Errorf("roll back to savepoint: %w", rerr)
					}
				}
				results[i] = err
				return true
			}
		}
		if _, rerr := tx.ExecContext(ctx, "RELEASE SAVEPOINT job"); rerr != nil && err == nil {
			err = fmt.Errorf("release savepoint: %w", rerr)
		}
		results[i] = err
		if err == nil {
			committed++
		}
	}
	g.commit(tx, committed, results)
	return failed
}

// commit commits tx if any job in it succeeded, and otherwise rolls it back.
// A failed commit fails every job that had succeeded.
func (g *groupWriter) commit(tx *Tx, succeeded int, results []error) {
	if succeeded == 0 {
		tx.tx.Rollback()
		return
	}
	if err := tx.tx.Commit(); err != nil {
		for i := range results {
			if results[i] == nil {
				results[i] = fmt.Errorf("commit: %w", err)
			}
		}
	}
}

func failAll(results []error, err error) {
	for i := range results {
		results[i] = err
	}
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
