package messaging

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"kurir"
	"kurir/account"
	"kurir/sqldb"
)

// searchKey is what public-chat search matches: the folded title and @name.
func searchKey(title, username string) string {
	return account.UsernameKey(title) + " " + account.UsernameKey(username)
}

// cleanQuery validates a search query.
func cleanQuery(q string) (string, error) {
	if !utf8.ValidString(q) {
		return "", kurir.Invalid("q", "invalid_utf8", "The search query is not valid UTF-8.")
	}
	q = strings.TrimSpace(q)
	switch n := utf8.RuneCountInString(q); {
	case n == 0:
		return "", kurir.Invalid("q", "empty", "Type something to search for.")
	case n > 256:
		return "", kurir.Invalid("q", "too_long", "A search query may be at most 256 characters.")
	}
	return q, nil
}

// SearchChats finds public groups and channels whose title or @name contains
// the query, biggest first.
func (s *Service) SearchChats(ctx context.Context, user kurir.UserID, query string, limit int) ([]Chat, error) {
	q, err := cleanQuery(query)
	if err != nil {
		return nil, err
	}
	q = strings.TrimPrefix(q, "@")
	pattern := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(account.UsernameKey(q)) + "%"
	rows, err := s.db.Read().QueryContext(ctx, `SELECT `+chatColumns+` FROM chats c
		LEFT JOIN chat_members m ON m.chat_id = c.id AND m.user_id = $2
		WHERE c.username_key IS NOT NULL AND c.search_key LIKE $1 ESCAPE '\'
		ORDER BY c.member_count DESC, c.id LIMIT $3`, pattern, user, clampLimit(limit, 50))
	if err != nil {
		return nil, fmt.Errorf("search chats: %w", err)
	}
	defer rows.Close()
	var out []Chat
	for rows.Next() {
		c, err := scanChat(rows)
		if err == nil {
			err = s.territorial(ctx, c)
		}
		if err != nil {
			return nil, err
		}
		if c.canRead() {
			out = append(out, c.view(user))
		}
	}
	return out, rows.Err()
}

// messageColumnsM is messageColumns qualified by the alias m, for joins.
var messageColumnsM = "m." + strings.ReplaceAll(messageColumns, ", ", ", m.")

// SearchMessages finds messages containing every word of the query, newest
// first: in one chat the user can read, or (chat 0) in all chats they are a
// member of. Words match whole, ignoring case and accents.
func (s *Service) SearchMessages(ctx context.Context, user kurir.UserID, query string, chat ChatID, limit int) ([]Message, error) {
	q, err := cleanQuery(query)
	if err != nil {
		return nil, err
	}
	limit = clampLimit(limit, 100)
	var cleared int64
	if chat != 0 {
		c, err := s.loadChat(ctx, s.db.Read(), chat, user)
		if err != nil {
			return nil, err
		}
		if !c.canRead() {
			return nil, c.readErr()
		}
		if c.isMember() {
			cleared = c.cleared
		}
	}
	// A message is findable as soon as its send returns: index what is
	// still queued first.
	if _, err := s.IndexPending(ctx); err != nil {
		return nil, err
	}
	var match, arg string
	if s.db.Engine() == sqldb.Postgres {
		match, arg = `to_tsvector('simple', m.text) @@ plainto_tsquery('simple', $1)`, q
	} else {
		match, arg = `m.rowid IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH $1)`, ftsQuery(q)
		if arg == "" {
			return nil, nil
		}
	}
	var sqlText string
	args := []any{arg, user, limit, 0}
	if chat != 0 {
		sqlText = `SELECT ` + messageColumnsM + ` FROM messages m WHERE ` + match + ` AND m.chat_id = $5 AND m.seq > $6 AND m.deleted_at = 0
			AND NOT EXISTS (SELECT 1 FROM hidden_messages h WHERE h.user_id = $2 AND h.chat_id = m.chat_id AND h.seq = m.seq)
			ORDER BY m.seq DESC LIMIT $3 OFFSET $4`
		args = append(args, chat, cleared)
	} else {
		sqlText = `SELECT ` + messageColumnsM + ` FROM messages m
			JOIN chat_members cm ON cm.chat_id = m.chat_id AND cm.user_id = $2 AND cm.status = 'member'
			JOIN chats c ON c.id = m.chat_id AND c.taken_down_at = 0
			WHERE ` + match + ` AND m.seq > cm.cleared_seq AND m.deleted_at = 0
			AND NOT EXISTS (SELECT 1 FROM hidden_messages h WHERE h.user_id = $2 AND h.chat_id = m.chat_id AND h.seq = m.seq)
			ORDER BY m.created_at DESC, m.chat_id, m.seq DESC LIMIT $3 OFFSET $4`
	}
	// What is withheld where the reader is must not be found by its words;
	// pages withheld are made up from the next ones, a bounded number of them.
	var out []Message
	for page := 0; page < searchPages && len(out) < limit; page++ {
		args[3] = page * limit
		found, err := s.searchPage(ctx, sqlText, args)
		if err != nil {
			return nil, err
		}
		full := len(found) == limit
		if err := s.withholdMessages(ctx, found); err != nil {
			return nil, err
		}
		for _, m := range found {
			if m.Withheld == nil && len(out) < limit {
				out = append(out, m)
			}
		}
		if !full {
			break
		}
	}
	return out, nil
}

// searchPages bounds the pages a search reads to fill its answer when
// what it found is withheld where the reader is.
const searchPages = 5

// searchPage runs one page of a message search.
func (s *Service) searchPage(ctx context.Context, sqlText string, args []any) ([]Message, error) {
	rows, err := s.db.Read().QueryContext(ctx, sqlText, args...)
	if err != nil {
		return nil, fmt.Errorf("search messages: %w", err)
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// ftsQuery turns what a person typed into an FTS5 query that matches every
// word, with no FTS5 syntax of theirs interpreted: each word is quoted.
func ftsQuery(q string) string {
	var b strings.Builder
	for _, w := range strings.Fields(q) {
		w = strings.ReplaceAll(w, `"`, `""`)
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(`"` + w + `"`)
	}
	return b.String()
}

// indexBatch bounds the messages one indexing transaction takes from the
// queue, so that it holds SQLite's writer only briefly.
const indexBatch = 1000

// IndexPending moves the messages queued for search into the search index
// and returns how many it moved. On SQLite a send only queues its message
// (see migration 0003): the index is updated in batches, by RunSearchIndexer
// and by every search. On PostgreSQL it does nothing, as the GIN index
// batches its own updates.
func (s *Service) IndexPending(ctx context.Context) (int64, error) {
	if s.db.Engine() != sqldb.SQLite {
		return 0, nil
	}
	var total int64
	for {
		var queued bool
		if err := s.db.Read().QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM search_pending)`).Scan(&queued); err != nil {
			return total, fmt.Errorf("search queue: %w", err)
		}
		if !queued {
			return total, nil
		}
		var n int64
		err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			var last int64
			err := tx.QueryRowContext(ctx, `SELECT msg_rowid FROM search_pending ORDER BY msg_rowid LIMIT 1 OFFSET $1`, indexBatch-1).Scan(&last)
			if errors.Is(err, sql.ErrNoRows) {
				last = math.MaxInt64
			} else if err != nil {
				return err
			}
			// Written as IN, not as a join: SQLite would carry the bound
			// over to messages.rowid and scan every older message.
			if _, err := tx.ExecContext(ctx, `INSERT INTO messages_fts (rowid, text)
				SELECT rowid, text FROM messages WHERE rowid IN (SELECT msg_rowid FROM search_pending WHERE msg_rowid <= $1)`, last); err != nil {
				return err
			}
			res, err := tx.ExecContext(ctx, `DELETE FROM search_pending WHERE msg_rowid <= $1`, last)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return total, fmt.Errorf("index messages for search: %w", err)
		}
		total += n
		if n < indexBatch {
			return total, nil
		}
	}
}

// RunSearchIndexer indexes queued messages every interval until ctx ends.
// It batches: at a few thousand messages a second, a run every 200 ms
// indexes hundreds at once.
func (s *Service) RunSearchIndexer(ctx context.Context, interval time.Duration) {
	if s.db.Engine() != sqldb.SQLite {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := s.IndexPending(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("search indexer", "err", err)
		}
	}
}
