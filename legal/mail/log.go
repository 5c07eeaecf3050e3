package mail

import (
	"context"
	"log/slog"
	"sync"
)

// keep is how many messages a LogSender holds for Sent.
const keep = 100

// LogSender is the development sink: it writes every message whole, body and
// all, to the log at info level and keeps the last 100 in memory. Verification
// codes therefore end up in the log, so it is for development and tests only.
//
// The zero LogSender is ready to use. A LogSender must not be copied after
// first use; it is safe for concurrent use.
type LogSender struct {
	// Log receives the messages; nil means slog.Default().
	Log *slog.Logger

	mu   sync.Mutex
	sent []Message // oldest first, at most keep
}

// Send validates m as SMTPSender does, then logs and records it. It fails
// only for an invalid message or a done ctx.
func (s *LogSender) Send(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := m.check(); err != nil {
		return err
	}
	log := s.Log
	if log == nil {
		log = slog.Default()
	}
	log.InfoContext(ctx, "mail", "to", m.To, "subject", m.Subject, "body", m.Body)

	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.sent) == keep {
		copy(s.sent, s.sent[1:])
		s.sent = s.sent[:keep-1]
	}
	s.sent = append(s.sent, m)
	return nil
}

// Sent returns a copy of the last 100 messages sent, oldest first.
func (s *LogSender) Sent() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.sent...)
}
