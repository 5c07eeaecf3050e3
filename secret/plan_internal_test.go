package secret

import (
	"context"
	"strings"
	"testing"

	"kurir/account"
	"kurir/sqldb/sqldbtest"
)

// TestSQLitePlans pins the query plans of the relay's hot statements on
// SQLite, whose planner has no statistics: acknowledging looks envelopes up
// by ID, not by visiting every envelope of the device (which made draining
// a queue of 20,000 envelopes a hundred times slower), and fetching walks
// the device's index in order.
func TestSQLitePlans(t *testing.T) {
	db := sqldbtest.SQLite(t, account.Migrations, Migrations)
	plan := func(query string, args ...any) string {
		t.Helper()
		rows, err := db.Read().QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+query, args...)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var steps []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			steps = append(steps, detail)
		}
		return strings.Join(steps, "; ")
	}
	args := make([]any, 1+ackChunk)
	for i := range args {
		args[i] = ""
	}
	args[0] = 1
	if p := plan(ackQuery, args...); !strings.Contains(p, "(id=?)") || strings.Contains(p, "secret_envelopes_device") {
		t.Errorf("acknowledging: plan %q, want a lookup by ID", p)
	}
	if p := plan(pendingQuery, 1, 1, 0, 100); !strings.Contains(p, "secret_envelopes_device") || strings.Contains(p, "TEMP B-TREE") {
		t.Errorf("fetching: plan %q, want the device's index, in order", p)
	}
}
