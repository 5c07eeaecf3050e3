package legal

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"kurir"
	"kurir/account"
	"kurir/blob"
	"kurir/jurisdiction"
	"kurir/messaging"
	"kurir/moderation"
	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

// signalPager hands each page to a channel the benchmark waits on.
type signalPager chan Page

func (p signalPager) Page(ctx context.Context, pg Page) error { p <- pg; return nil }

// benchWorld is a platform on engine for the benchmarks, with the system clock.
func benchWorld(b *testing.B, engine string, pager Pager) (*Service, *account.Service, *messaging.Service, Staff) {
	var db *sqldb.DB
	if engine == "sqlite" {
		db = sqldbtest.SQLite(b, worldSchema...)
	} else {
		db = sqldbtest.Postgres(b, worldSchema...)
	}
	clock := kurir.SystemClock{}
	acc := account.NewService(db, clock, nil, account.Config{Argon2: account.CheapArgon2Params, Limits: &account.Limits{}})
	msg := messaging.NewService(db, nil, clock, nil, messaging.Config{Territory: jurisdiction.NewService(db, nil, clock, nil)})
	mod := moderation.NewService(db, msg, acc, clock, nil, moderation.Config{})
	blobs, err := blob.OpenFS(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	svc := NewService(db, blobs, acc, msg, mod, clock, nil, Config{Pager: pager})
	b.Cleanup(svc.Wait)
	u, err := acc.Register(context.Background(), account.RegisterParams{Username: "lawrence", Password: "wet-otter-lantern-9"})
	if err != nil {
		b.Fatal(err)
	}
	return svc, acc, msg, Staff{ID: u.ID, Role: kurir.RoleLegal}
}

// readyOfficer registers an agency and a ready officer of it.
func readyOfficer(b *testing.B, svc *Service, legal Staff, country string, removal bool) OfficerSession {
	ctx := context.Background()
	ag, err := svc.AddAgency(ctx, legal, Agency{Name: "Agency", Country: country, Domains: []string{"agency.example"}, Removal: removal})
	if err != nil {
		b.Fatal(err)
	}
	var id int64
	err = svc.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO legal_officers (agency_id, email, name, password_hash, verified_at, totp_enabled_at, attested_at, created_at)
			VALUES ($1, 'o@agency.example', 'Officer', 'x', 1, 1, 1, 1) RETURNING id`, ag.ID).Scan(&id)
	})
	if err != nil {
		b.Fatal(err)
	}
	return OfficerSession{Officer: Officer{ID: id, AgencyID: ag.ID, Verified: true, TOTP: true, Attested: true}, SecondFactor: true}
}

// report adds the median and 99th percentile of ds to b's results.
func report(b *testing.B, ds []time.Duration, what string) {
	slices.Sort(ds)
	b.ReportMetric(float64(ds[len(ds)/2].Microseconds())/1000, what+"-p50-ms")
	b.ReportMetric(float64(ds[len(ds)*99/100].Microseconds())/1000, what+"-p99-ms")
}

// BenchmarkEmergencyToPage measures the time from an officer filing an
// emergency request to the on-call webhook receiving the page, over HTTP
// on loopback, as kurir serve --legal-pager-url sends it.
func BenchmarkEmergencyToPage(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			pager := make(signalPager, 1)
			hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var pg Page
				if err := json.NewDecoder(r.Body).Decode(&pg); err != nil {
					http.Error(w, err.Error(), http.StatusBadRequest)
					return
				}
				pager <- pg
			}))
			b.Cleanup(hook.Close)
			svc, acc, _, legal := benchWorld(b, engine, Webhook{URL: hook.URL})
			sess := readyOfficer(b, svc, legal, "DE", false)
			ctx := context.Background()
			u, err := acc.Register(ctx, account.RegisterParams{Username: "missing", Password: "wet-otter-lantern-9"})
			if err != nil {
				b.Fatal(err)
			}
			p := NewRequest{Kind: Emergency, Process: EmergencyBasis, CaseReference: "E", LegalBasis: "§ 34 StGB", IssuingAuthority: "Polizei",
				Description: "A child is missing.", Targets: []Target{{Kind: TargetUser, Value: fmt.Sprint(u.ID)}}, Categories: []Category{Subscriber}}
			var ds []time.Duration
			for b.Loop() {
				start := time.Now()
				r, err := svc.File(ctx, sess, p)
				if err != nil {
					b.Fatal(err)
				}
				pg := <-pager
				ds = append(ds, time.Since(start))
				if pg.Number != r.Number {
					b.Fatalf("paged %s, filed %s", pg.Number, r.Number)
				}
			}
			report(b, ds, "to-page")
		})
	}
}

// BenchmarkRemovalOrderToEnforcement measures the time from an authority
// filing a removal order for a channel to the channel being withheld in its
// country (File returns once it is; every iteration checks it is).
func BenchmarkRemovalOrderToEnforcement(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			svc, acc, msg, legal := benchWorld(b, engine, nil)
			sess := readyOfficer(b, svc, legal, "FR", true)
			ctx := context.Background()
			owner, err := acc.Register(ctx, account.RegisterParams{Username: "channelowner", Password: "wet-otter-lantern-9"})
			if err != nil {
				b.Fatal(err)
			}
			inFrance := kurir.WithLocation(ctx, kurir.Location{Network: "FR"})
			var ds []time.Duration
			i := 0
			for b.Loop() {
				b.StopTimer()
				i++
				name := fmt.Sprintf("channel%06d", i)
				ch, err := msg.CreateChannel(ctx, owner.ID, messaging.NewChat{Title: name, Username: name})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := msg.Send(ctx, owner.ID, ch.ID, messaging.SendParams{Text: "propaganda", IdempotencyKey: name}); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				start := time.Now()
				if _, err := svc.File(ctx, sess, NewRequest{Kind: Removal, Process: RemovalOrder, CaseReference: name, LegalBasis: "Art. 6-1 LCEN",
					IssuingAuthority: "OCLCTIC", Targets: []Target{{Kind: TargetLink, Value: "@" + name}}}); err != nil {
					b.Fatal(err)
				}
				ds = append(ds, time.Since(start))
				if _, err := msg.History(inFrance, owner.ID, ch.ID, 0, messaging.Older, 1); kurir.ErrorCode(err) != kurir.ELegal {
					b.Fatalf("after the order the channel reads in France: %v", err)
				}
			}
			report(b, ds, "to-enforced")
		})
	}
}
