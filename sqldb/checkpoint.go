package sqldb

import (
	"context"
	"database/sql"
	"log/slog"
	"time"
)

// SQLite's automatic checkpoint, which copies the write-ahead log back into
// the database file, runs on the connection that commits: the group writer.
// Under sustained writes it ran many times a second, and every write waited
// for its copying and its fsync. So the writer's automatic checkpoint is set
// high, as a backstop only (writerAutoCheckpoint pages), and a checkpointer
// goroutine checkpoints from a connection of its own every checkpointEvery,
// in PASSIVE mode, which runs beside the writer instead of stopping it.
const (
	writerAutoCheckpoint = 4000 // pages (16 MiB of log)
	checkpointEvery      = 100 * time.Millisecond
)

type checkpointer struct {
	db    *sql.DB
	log   *slog.Logger
	stop  chan struct{}
	ended chan struct{}
}

func newCheckpointer(db *sql.DB, log *slog.Logger) *checkpointer {
	db.SetMaxOpenConns(1)
	c := &checkpointer{db: db, log: log, stop: make(chan struct{}), ended: make(chan struct{})}
	go c.loop()
	return c
}

func (c *checkpointer) loop() {
	defer close(c.ended)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		var busy, logged, copied int
		err := c.db.QueryRowContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &logged, &copied)
		if err != nil {
			c.log.Warn("sqlite checkpoint", "err", err)
		}
	}
}

// close stops the checkpointer and closes its connection.
func (c *checkpointer) close() error {
	close(c.stop)
	<-c.ended
	return c.db.Close()
}
