package secret_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"kurir"
	"kurir/moderation"
	"kurir/ratelimit"
	"kurir/secret"
	"kurir/secret/franking"
	"kurir/secret/protocol"
	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

// The tests below are the service's conformance suite: each runs on SQLite
// and on PostgreSQL (when KURIR_TEST_POSTGRES_URL is set).

func TestPublishKeys(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		w := newWorld(t, db, nil)
		_, dev := w.user(t, "alice")

		st, err := w.svc.KeyStatus(ctx, dev)
		if err != nil || st.Registered || !st.Replenish || st.OneTimePreKeys != 0 {
			t.Fatalf("status before publishing: %+v, %v; want unregistered", st, err)
		}
		wantCode(t, "add prekeys before publishing", func() error {
			_, err := w.svc.AddPreKeys(ctx, dev, publicKeys(newKeyring(t, 1, 1, 1).opks))
			return err
		}(), kurir.EConflict, "secret_not_registered")

		k := newKeyring(t, 7, 1, 30)
		st, err = w.svc.PublishKeys(ctx, dev, k.keys())
		if err != nil {
			t.Fatal(err)
		}
		want := secret.KeyStatus{Registered: true, Identity: k.identity.Public(), SignedPreKeyID: 7, SignedPreKeyAt: w.clock.Now(), OneTimePreKeys: 30}
		if st != want {
			t.Errorf("status after publishing:\ngot  %+v\nwant %+v", st, want)
		}

		// Refused uploads change nothing.
		bad := []struct {
			name   string
			keys   func() secret.Keys
			field  string
			reason string
		}{
			{"forged signature", func() secret.Keys {
				ks := k.keys()
				ks.Signature[0] ^= 1
				return ks
			}, "signed_prekey.signature", "secret_bad_signature"},
			{"signature of another identity", func() secret.Keys {
				ks := newKeyring(t, 7, 1, 0).keys()
				ks.Identity = k.identity.Public()
				return ks
			}, "signed_prekey.signature", "secret_bad_signature"},
			{"low-order identity", func() secret.Keys {
				ks := k.keys()
				ks.Identity.DH = [32]byte{} // the point 0
				return ks
			}, "identity", "secret_bad_key"},
			{"low-order signed prekey", func() secret.Keys {
				ks := k.keys()
				ks.SignedPreKey.Key = [32]byte{1} // the point 1
				return ks
			}, "signed_prekey.key", "secret_bad_key"},
			{"low-order one-time prekey", func() secret.Keys {
				ks := k.keys()
				ks.OneTime = []protocol.PreKey{{ID: 99, Key: [32]byte{1}}}
				return ks
			}, "one_time_prekeys[0].key", "secret_bad_key"},
			{"a one-time prekey ID twice", func() secret.Keys {
				ks := k.keys()
				extra := publicKeys(k.more(t, 100, 2))
				extra[1].ID = 100
				ks.OneTime = extra
				return ks
			}, "one_time_prekeys[1].id", "duplicate_id"},
			{"an ID taken by another key", func() secret.Keys {
				ks := k.keys()
				ks.OneTime = publicKeys(k.more(t, 5, 1))
				return ks
			}, "one_time_prekeys[0].id", "secret_prekey_id_taken"},
			{"more than 100 at once", func() secret.Keys {
				ks := k.keys()
				ks.OneTime = publicKeys(k.more(t, 1000, 101))
				return ks
			}, "one_time_prekeys", "too_many"},
		}
		for _, c := range bad {
			_, err := w.svc.PublishKeys(ctx, dev, c.keys())
			var e *kurir.Error
			if !errors.As(err, &e) || e.Reason != c.reason || e.Field != c.field {
				t.Errorf("%s: got %v, want reason %s on field %s", c.name, err, c.reason, c.field)
			}
			if got, _ := w.svc.KeyStatus(ctx, dev); got != want {
				t.Errorf("%s changed the keys: %+v", c.name, got)
			}
		}

		// A retried upload stores nothing twice.
		if st, err = w.svc.PublishKeys(ctx, dev, k.keys()); err != nil || st != want {
			t.Errorf("republishing the same keys: %+v, %v; want %+v", st, err, want)
		}

		// Rotating the signed prekey keeps the one-time prekeys.
		w.clock.Advance(time.Hour)
		k.rotate(t, 8)
		ks := k.keys()
		ks.OneTime = nil
		st, err = w.svc.PublishKeys(ctx, dev, ks)
		if err != nil || st.SignedPreKeyID != 8 || !st.SignedPreKeyAt.Equal(w.clock.Now()) || st.OneTimePreKeys != 30 {
			t.Errorf("after rotation: %+v, %v; want signed prekey 8 from now and 30 one-time prekeys", st, err)
		}

		// The stock is bounded.
		for i := range 4 {
			if st, err = w.svc.AddPreKeys(ctx, dev, publicKeys(k.more(t, uint32(1000+100*i), 100))); err != nil {
				t.Fatal(err)
			}
		}
		if st.OneTimePreKeys != 430 || st.Replenish {
			t.Errorf("after adding 400: %+v", st)
		}
		_, err = w.svc.AddPreKeys(ctx, dev, publicKeys(k.more(t, 2000, 71)))
		wantCode(t, "passing 500", err, kurir.EConflict, "secret_too_many_prekeys")
		if st, _ := w.svc.KeyStatus(ctx, dev); st.OneTimePreKeys != 430 {
			t.Errorf("a refused upload stored %d prekeys", st.OneTimePreKeys-430)
		}
		if st, err = w.svc.AddPreKeys(ctx, dev, publicKeys(k.more(t, 2000, 70))); err != nil || st.OneTimePreKeys != 500 {
			t.Errorf("filling to 500: %+v, %v", st, err)
		}

		// Another device of the same user is another directory entry.
		_, dev2 := w.login(t, "alice")
		w.publish(t, dev2, 5)
		list, err := w.svc.Devices(ctx, dev.User)
		if err != nil || len(list) != 2 || list[0].Device != dev.ID || list[1].Device != dev2.ID || list[0].Identity != k.identity.Public() {
			t.Errorf("devices: %+v, %v", list, err)
		}
		if list, err := w.svc.Devices(ctx, 999999); err != nil || len(list) != 0 {
			t.Errorf("devices of nobody: %+v, %v", list, err)
		}
	}, schema...)
}

func TestReinstallDropsPrekeysAndEnvelopes(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		w := newWorld(t, db, nil)
		_, alice := w.user(t, "alice")
		_, bob := w.user(t, "bobby")
		w.publish(t, bob, 10)
		o, _ := outgoing(bob, "m1", "before the reinstall")
		if _, err := w.svc.Send(ctx, alice, []secret.Outgoing{o}); err != nil {
			t.Fatal(err)
		}
		k := w.publish(t, bob, 3) // a new identity
		st, err := w.svc.KeyStatus(ctx, bob)
		if err != nil || st.Identity != k.identity.Public() || st.OneTimePreKeys != 3 {
			t.Errorf("after reinstall: %+v, %v; want the new identity and its 3 prekeys", st, err)
		}
		if got, _ := w.svc.Pending(ctx, bob, 0); len(got) != 0 {
			t.Errorf("%d envelopes for the old identity survived the reinstall", len(got))
		}
	}, schema...)
}

func TestClaim(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		w := newWorld(t, db, nil)
		_, alice := w.user(t, "alice")
		_, bob := w.user(t, "bobby")
		_, bob2 := w.login(t, "bobby")
		kb := w.publish(t, bob, 22)
		kb2 := w.publish(t, bob2, 0)

		c, err := w.svc.Claim(ctx, alice, bob.User, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Bundles) != 2 || c.Bundles[0].Device != bob.ID || c.Bundles[1].Device != bob2.ID {
			t.Fatalf("claimed %+v, want a bundle for each of bob's devices", c.Bundles)
		}
		b := c.Bundles[0].Bundle
		if err := b.Verify(); err != nil {
			t.Errorf("claimed bundle does not verify: %v", err)
		}
		want := protocol.NewBundle(kb.identity, kb.spk, kb.opks[0])
		if !equalBundles(b, want) {
			t.Errorf("bundle of bob's first device:\ngot  %+v\nwant %+v", b, want)
		}
		if got := c.Bundles[1].Bundle; got.OneTimePreKey != nil || !equalBundles(got, protocol.NewBundle(kb2.identity, kb2.spk, nil)) {
			t.Errorf("bundle of a device without one-time prekeys: %+v", got)
		}
		if !slices.Equal(c.Low, []secret.Device{bob2}) {
			t.Errorf("low: %v, want only bob's second device (21 left on the first)", c.Low)
		}
		// Its encoding round-trips as the protocol defines it.
		enc, _ := b.MarshalBinary()
		var dec protocol.Bundle
		if err := dec.UnmarshalBinary(enc); err != nil || len(enc) != 202 || !equalBundles(dec, b) {
			t.Errorf("bundle encoding: %d bytes, %v", len(enc), err)
		}

		// Each claim takes the next one-time prekey; below 20 the device is low.
		c, err = w.svc.Claim(ctx, alice, bob.User, []int64{bob.ID})
		if err != nil || len(c.Bundles) != 1 || c.Bundles[0].Bundle.OneTimePreKey.ID != kb.opks[1].ID || len(c.Low) != 0 {
			t.Fatalf("second claim: %+v, %v", c, err)
		}
		c, err = w.svc.Claim(ctx, alice, bob.User, []int64{bob.ID})
		if err != nil || !slices.Equal(c.Low, []secret.Device{bob}) {
			t.Errorf("third claim left 19: low %v, %v; want bob's device", c.Low, err)
		}
		if st, _ := w.svc.KeyStatus(ctx, bob); st.OneTimePreKeys != 19 || !st.Replenish {
			t.Errorf("status after 3 claims: %+v", st)
		}

		// A claimed prekey is never stored, so never handed out, again.
		st, err := w.svc.AddPreKeys(ctx, bob, publicKeys(kb.opks[:1]))
		if err != nil || st.OneTimePreKeys != 19 {
			t.Errorf("uploading a claimed prekey again: %+v, %v; want it skipped", st, err)
		}

		// Bad claims take nothing.
		for _, c := range []struct {
			name    string
			devices []int64
			code    kurir.Code
			reason  string
		}{
			{"another user's device", []int64{alice.ID}, kurir.ENotFound, "secret_no_device"},
			{"a device that does not exist", []int64{bob.ID, 424242}, kurir.ENotFound, "secret_no_device"},
			{"a device twice", []int64{bob.ID, bob.ID}, kurir.EInvalid, "duplicate_id"},
			{"a bad ID", []int64{-1}, kurir.EInvalid, "invalid_id"},
		} {
			_, err := w.svc.Claim(ctx, alice, bob.User, c.devices)
			wantCode(t, c.name, err, c.code, c.reason)
		}
		_, err = w.svc.Claim(ctx, bob, bob.User, []int64{bob.ID})
		wantCode(t, "claiming one's own device", err, kurir.EInvalid, "secret_own_device")
		if st, _ := w.svc.KeyStatus(ctx, bob); st.OneTimePreKeys != 19 {
			t.Errorf("refused claims took prekeys: %d left", st.OneTimePreKeys)
		}
		// A user's own other devices, not the claiming one.
		c, err = w.svc.Claim(ctx, bob, bob.User, nil)
		if err != nil || len(c.Bundles) != 1 || c.Bundles[0].Device != bob2.ID {
			t.Errorf("bob claiming his own devices: %+v, %v; want only his other device", c.Bundles, err)
		}
		if c, err := w.svc.Claim(ctx, alice, 999999, nil); err != nil || len(c.Bundles) != 0 {
			t.Errorf("claiming for a user without devices: %+v, %v", c, err)
		}
	}, schema...)
}

func equalBundles(a, b protocol.Bundle) bool {
	ea, _ := a.MarshalBinary()
	eb, _ := b.MarshalBinary()
	return bytes.Equal(ea, eb)
}

// TestConcurrentClaims claims one device's prekeys from many goroutines at
// once: every prekey is handed out exactly once. On PostgreSQL the claims
// run in concurrent transactions.
func TestConcurrentClaims(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		w := newWorld(t, db, &ratelimit.Limit{})
		const opks, claimers, each = 60, 8, 10
		_, bob := w.user(t, "bobby")
		w.publish(t, bob, opks)
		var devs []secret.Device
		for i := range claimers {
			_, d := w.user(t, fmt.Sprint("claimer", i))
			devs = append(devs, d)
		}
		var mu sync.Mutex
		got := map[uint32]int{}
		empty := 0
		var wg sync.WaitGroup
		for _, d := range devs {
			wg.Go(func() {
				for range each {
					c, err := w.svc.Claim(ctx, d, bob.User, []int64{bob.ID})
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					if opk := c.Bundles[0].Bundle.OneTimePreKey; opk != nil {
						got[opk.ID]++
					} else {
						empty++
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		for id, n := range got {
			if n != 1 {
				t.Errorf("one-time prekey %d handed out %d times", id, n)
			}
		}
		if len(got) != opks || empty != claimers*each-opks {
			t.Errorf("%d prekeys handed out and %d bundles without one; want %d and %d", len(got), empty, opks, claimers*each-opks)
		}
	}, schema...)
}

// TestConcurrentFirstPublish: a device's first upload, made twice at once
// (a retry racing the first attempt, two processes of the device), stores
// the keys once and answers both, rather than failing one on the
// database's unique key.
func TestConcurrentFirstPublish(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		w := newWorld(t, db, nil)
		const devices, each = 10, 4
		var wg sync.WaitGroup
		for i := range devices {
			_, dev := w.user(t, fmt.Sprint("racer", i))
			k := newKeyring(t, 1, 1, 5).keys()
			for range each {
				wg.Go(func() {
					st, err := w.svc.PublishKeys(ctx, dev, k)
					if err != nil {
						t.Errorf("device %d: %v", dev.ID, err)
					} else if !st.Registered || st.OneTimePreKeys != 5 {
						t.Errorf("device %d: %+v, want registered with 5 one-time prekeys", dev.ID, st)
					}
				})
			}
		}
		wg.Wait()
	}, schema...)
}

func TestClaimRateLimit(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		w := newWorld(t, db, &ratelimit.Limit{Every: time.Minute, Burst: 3})
		_, alice := w.user(t, "alice")
		_, bob := w.user(t, "bobby")
		_, bob2 := w.login(t, "bobby")
		w.publish(t, bob, 10)
		w.publish(t, bob2, 10)
		if _, err := w.svc.Claim(ctx, alice, bob.User, nil); err != nil { // 2 bundles
			t.Fatal(err)
		}
		if _, err := w.svc.Claim(ctx, alice, bob.User, []int64{bob.ID}); err != nil { // the third
			t.Fatal(err)
		}
		_, err := w.svc.Claim(ctx, alice, bob.User, []int64{bob.ID})
		wantCode(t, "a fourth bundle in a minute", err, kurir.ERateLimited, "too_many_claims")
		if st, _ := w.svc.KeyStatus(ctx, bob); st.OneTimePreKeys != 8 {
			t.Errorf("a refused claim took a prekey: %d left", st.OneTimePreKeys)
		}
		w.clock.Advance(time.Minute)
		if _, err := w.svc.Claim(ctx, alice, bob.User, []int64{bob.ID}); err != nil {
			t.Errorf("after a minute: %v", err)
		}
	}, schema...)
}

func TestSendFetchAck(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		w := newWorld(t, db, nil)
		_, alice := w.user(t, "alice")
		_, bob := w.user(t, "bobby")
		_, bob2 := w.login(t, "bobby")
		w.publish(t, bob, 1)
		w.publish(t, bob2, 1)

		o1, _ := outgoing(bob, "m1", "hello")
		o2, _ := outgoing(bob2, "m1-b", "hello")
		o3, _ := outgoing(bob, "m2", "second")
		o3.Body = body(true, 100)
		sent, err := w.svc.Send(ctx, alice, []secret.Outgoing{o1, o2, o3})
		if err != nil {
			t.Fatal(err)
		}
		at := w.clock.Now().Truncate(time.Microsecond)
		for i, s := range sent {
			to := []secret.Device{bob, bob2, bob}[i]
			if !s.Stored || s.To != to || !s.At.Equal(at) || s.ID == "" {
				t.Errorf("sent[%d] = %+v", i, s)
			}
		}

		// A retry answers the first result and stores nothing.
		again, err := w.svc.Send(ctx, alice, []secret.Outgoing{o1})
		if err != nil || len(again) != 1 || again[0].Stored || again[0].ID != sent[0].ID || again[0].Tag != sent[0].Tag || !again[0].At.Equal(sent[0].At) {
			t.Errorf("retry: %+v, %v; want the first result %+v", again, err, sent[0])
		}
		if n := count(t, db, "secret_envelopes", ""); n != 3 {
			t.Errorf("%d envelopes stored after a retry, want 3", n)
		}

		// Bad sends store nothing.
		other, _ := outgoing(bob, "m1", "something else")
		_, err = w.svc.Send(ctx, alice, []secret.Outgoing{other})
		wantCode(t, "client_id reused for another envelope", err, kurir.EConflict, "secret_client_id_reused")
		fresh, _ := outgoing(bob, "m3", "x")
		for _, c := range []struct {
			name   string
			edit   func(o *secret.Outgoing)
			code   kurir.Code
			reason string
		}{
			{"device of another user", func(o *secret.Outgoing) { o.To = secret.Device{User: alice.User, ID: bob.ID} }, kurir.ENotFound, "secret_no_device"},
			{"device without keys", func(o *secret.Outgoing) { o.To.ID = alice.ID; o.To.User = alice.User }, kurir.EInvalid, "secret_own_device"},
			{"no such device", func(o *secret.Outgoing) { o.To.ID = 777777 }, kurir.ENotFound, "secret_no_device"},
			{"empty body", func(o *secret.Outgoing) { o.Body = nil }, kurir.EInvalid, "secret_malformed_envelope"},
			{"truncated body", func(o *secret.Outgoing) { o.Body = o.Body[:50] }, kurir.EInvalid, "secret_malformed_envelope"},
			{"unknown body kind", func(o *secret.Outgoing) { o.Body = append([]byte{9}, o.Body[1:]...) }, kurir.EInvalid, "secret_malformed_envelope"},
			{"body too large", func(o *secret.Outgoing) { o.Body = body(false, secret.MaxBodySize) }, kurir.EInvalid, "secret_too_large"},
			{"no client_id", func(o *secret.Outgoing) { o.ClientID = "" }, kurir.EInvalid, "required"},
			{"long client_id", func(o *secret.Outgoing) { o.ClientID = strings.Repeat("x", 65) }, kurir.EInvalid, "too_long"},
			{"control character in client_id", func(o *secret.Outgoing) { o.ClientID = "a\x00b" }, kurir.EInvalid, "invalid_characters"},
		} {
			o := fresh
			o.Body, o.ClientID = bytes.Clone(fresh.Body), "m3-other"
			c.edit(&o)
			_, err := w.svc.Send(ctx, alice, []secret.Outgoing{fresh, o})
			wantCode(t, c.name, err, c.code, c.reason)
		}
		_, err = w.svc.Send(ctx, alice, []secret.Outgoing{fresh, fresh})
		wantCode(t, "one client_id twice in a send", err, kurir.EInvalid, "duplicate_id")
		_, err = w.svc.Send(ctx, alice, slices.Repeat([]secret.Outgoing{fresh}, 21))
		wantCode(t, "21 envelopes", err, kurir.EInvalid, "too_many")
		if n := count(t, db, "secret_envelopes", ""); n != 3 {
			t.Errorf("refused sends stored %d envelopes", n-3)
		}

		// Each device fetches its own, oldest first, with the sender and stamp.
		got, err := w.svc.Pending(ctx, bob, 0)
		if err != nil || len(got) != 2 || got[0].ID != sent[0].ID || got[1].ID != sent[2].ID {
			t.Fatalf("bob's pending: %+v, %v", got, err)
		}
		e := got[0]
		if e.From != alice || !bytes.Equal(e.Body, o1.Body) || e.Commitment != o1.Commitment || e.Tag != sent[0].Tag || !e.At.Equal(at) {
			t.Errorf("envelope as fetched: %+v", e)
		}
		if got, _ := w.svc.Pending(ctx, bob, 1); len(got) != 1 || got[0].ID != sent[0].ID {
			t.Errorf("limit 1: %+v", got)
		}
		if got, _ := w.svc.Pending(ctx, bob2, 0); len(got) != 1 || got[0].ID != sent[1].ID {
			t.Errorf("bob's second device: %+v", got)
		}

		// Acknowledging deletes only one's own.
		if n, err := w.svc.Ack(ctx, bob2, []string{sent[0].ID, sent[2].ID}); err != nil || n != 0 {
			t.Errorf("bob2 acknowledged bob's envelopes: %d, %v", n, err)
		}
		if n, err := w.svc.Ack(ctx, bob, []string{sent[0].ID, "unknown", sent[0].ID}); err != nil || n != 1 {
			t.Errorf("ack: %d, %v; want 1 deleted", n, err)
		}
		if got, _ := w.svc.Pending(ctx, bob, 0); len(got) != 1 || got[0].ID != sent[2].ID {
			t.Errorf("after ack: %+v", got)
		}
		_, err = w.svc.Ack(ctx, bob, slices.Repeat([]string{"x"}, 501))
		wantCode(t, "501 IDs", err, kurir.EInvalid, "too_many")
		_, err = w.svc.Ack(ctx, bob, []string{""})
		wantCode(t, "an empty ID", err, kurir.EInvalid, "invalid_id")

		// Over 50 IDs go in several statements.
		var many []secret.Outgoing
		for i := range 20 {
			o, _ := outgoing(bob, fmt.Sprint("bulk", i), "x")
			many = append(many, o)
		}
		var ids []string
		for range 4 {
			for i := range many {
				many[i].ClientID += "+"
			}
			s, err := w.svc.Send(ctx, alice, many)
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range s {
				ids = append(ids, x.ID)
			}
		}
		if n, err := w.svc.Ack(ctx, bob, append(ids, sent[2].ID)); err != nil || n != 81 {
			t.Errorf("acking 81: %d, %v", n, err)
		}
	}, schema...)
}

// TestPendingBoundsBytes: a fetch of large envelopes stops at a few
// megabytes, but always returns one.
func TestPendingBoundsBytes(t *testing.T) {
	db := sqldbtest.SQLite(t, schema...)
	ctx := context.Background()
	w := newWorld(t, db, nil)
	_, alice := w.user(t, "alice")
	_, bob := w.user(t, "bobby")
	w.publish(t, bob, 1)
	const n = 140 // of 64 KiB: 8.75 MiB
	for i := range n / secret.MaxEnvelopesPerSend {
		var out []secret.Outgoing
		for j := range secret.MaxEnvelopesPerSend {
			o, _ := outgoing(bob, fmt.Sprint(i, "-", j), "")
			o.Body = body(false, secret.MaxBodySize-58)
			if len(o.Body) != secret.MaxBodySize {
				t.Fatalf("a body of %d bytes, want the largest, %d", len(o.Body), secret.MaxBodySize)
			}
			out = append(out, o)
		}
		if _, err := w.svc.Send(ctx, alice, out); err != nil {
			t.Fatal(err)
		}
	}
	got, err := w.svc.Pending(ctx, bob, 500)
	if err != nil || len(got) == 0 || len(got) >= n {
		t.Errorf("fetched %d envelopes of 64 KiB, %v; want fewer than %d and at least one", len(got), err, n)
	}
}

func TestExpiry(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		w := newWorld(t, db, nil)
		_, alice := w.user(t, "alice")
		_, bob := w.user(t, "bobby")
		w.publish(t, bob, 1)
		old, _ := outgoing(bob, "old", "old")
		if _, err := w.svc.Send(ctx, alice, []secret.Outgoing{old}); err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(secret.DefaultEnvelopeTTL - time.Hour)
		recent, _ := outgoing(bob, "recent", "recent")
		sent, err := w.svc.Send(ctx, alice, []secret.Outgoing{recent})
		if err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(time.Hour) // the first is now as old as the TTL
		got, err := w.svc.Pending(ctx, bob, 0)
		if err != nil || len(got) != 1 || got[0].ID != sent[0].ID {
			t.Errorf("pending at the TTL: %+v, %v; want only the recent one", got, err)
		}
		n, err := w.svc.Expire(ctx)
		if err != nil || n != 1 {
			t.Errorf("expire: %d, %v; want 1", n, err)
		}
		if c := count(t, db, "secret_envelopes", ""); c != 1 {
			t.Errorf("%d envelopes left, want 1", c)
		}
		// The send records went after a day; the recent one is younger.
		if c := count(t, db, "secret_sends", ""); c != 1 {
			t.Errorf("%d send records left, want 1", c)
		}
		w.clock.Advance(secret.IdempotencyWindow)
		if _, err := w.svc.Expire(ctx); err != nil {
			t.Fatal(err)
		}
		if c := count(t, db, "secret_sends", ""); c != 0 {
			t.Errorf("%d send records older than a day left", c)
		}
	}, schema...)
}

// TestSessionEndDropsDevice ends devices' sessions in each way an account
// can: their keys, prekeys and pending envelopes go, they are no longer
// listed or claimable, and nothing can be sent to them.
func TestSessionEndDropsDevice(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		w := newWorld(t, db, nil)
		_, alice := w.user(t, "alice")
		bobP, bob := w.user(t, "bobby")
		_, bob2 := w.login(t, "bobby")
		_, bob3 := w.login(t, "bobby")
		_, bob4 := w.login(t, "bobby")
		for _, d := range []secret.Device{bob, bob2, bob3, bob4} {
			w.publish(t, d, 5)
			o, _ := outgoing(d, fmt.Sprint("to", d.ID), "hi")
			if _, err := w.svc.Send(ctx, alice, []secret.Outgoing{o}); err != nil {
				t.Fatal(err)
			}
		}
		gone := func(d secret.Device, how string) {
			t.Helper()
			if st, err := w.svc.KeyStatus(ctx, d); err != nil || st.Registered {
				t.Errorf("%s: device still registered: %+v, %v", how, st, err)
			}
			if c := count(t, db, "secret_prekeys", "device_id = $1", d.ID) + count(t, db, "secret_envelopes", "recipient_device = $1", d.ID); c != 0 {
				t.Errorf("%s: %d prekeys and envelopes left", how, c)
			}
			_, err := w.svc.Claim(ctx, alice, bob.User, []int64{d.ID})
			wantCode(t, how+": claim", err, kurir.ENotFound, "secret_no_device")
			o, _ := outgoing(d, "after "+how, "hi")
			_, err = w.svc.Send(ctx, alice, []secret.Outgoing{o})
			wantCode(t, how+": send", err, kurir.ENotFound, "secret_no_device")
		}
		if err := w.acc.RevokeSession(ctx, bob.User, bob2.ID); err != nil {
			t.Fatal(err)
		}
		gone(bob2, "revoked")
		if err := w.acc.Logout(ctx, bobP); err != nil {
			t.Fatal(err)
		}
		gone(bob, "logged out")
		if _, err := w.svc.PublishKeys(ctx, bob, newKeyring(t, 1, 1, 1).keys()); kurir.ErrorCode(err) != kurir.EUnauthenticated {
			t.Errorf("a logged-out device published keys: %v", err)
		}
		if err := w.acc.ChangePassword(ctx, bob.User, bob4.ID, password, "another-otter-lantern-10"); err != nil {
			t.Fatal(err)
		}
		gone(bob3, "logged out by a password change")
		if list, _ := w.svc.Devices(ctx, bob.User); len(list) != 1 || list[0].Device != bob4.ID {
			t.Errorf("devices after all that: %+v, want only the one that changed the password", list)
		}
		// A sender's logout leaves what it sent for the recipient.
		_, carol := w.user(t, "carol")
		o, _ := outgoing(bob4, "from carol", "hi")
		if _, err := w.svc.Send(ctx, carol, []secret.Outgoing{o}); err != nil {
			t.Fatal(err)
		}
		if err := w.acc.RevokeSession(ctx, carol.User, carol.ID); err != nil {
			t.Fatal(err)
		}
		if got, _ := w.svc.Pending(ctx, bob4, 0); len(got) != 2 {
			t.Errorf("bob4 has %d envelopes after their sender logged out, want 2", len(got))
		}
	}, schema...)
}

// TestReport files reports: a genuine franking proof files a report about
// the sender with the revealed text; a forged or misdirected one files
// nothing.
func TestReport(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		w := newWorld(t, db, nil)
		_, alice := w.user(t, "alice")
		_, bob := w.user(t, "bobby")
		_, bob2 := w.login(t, "bobby")
		w.publish(t, bob, 1)
		w.publish(t, bob2, 1)
		text := "pay me or else\x07"
		o, kf := outgoing(bob, "m1", text)
		o2, kf2 := outgoing(bob, "m2", "an innocent message")
		sent, err := w.svc.Send(ctx, alice, []secret.Outgoing{o, o2})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := w.svc.Pending(ctx, bob, 0)
		genuine := franking.Report{Plaintext: []byte(text), Key: kf, Commitment: got[0].Commitment, Tag: got[0].Tag,
			Context: franking.Context{Sender: int64(alice.User), SenderDevice: alice.ID, Recipient: int64(bob.User),
				RecipientDevice: bob.ID, At: got[0].At, Envelope: got[0].ID}}

		forged := []struct {
			name   string
			by     secret.Device
			edit   func(r *franking.Report)
			code   kurir.Code
			reason string
		}{
			{"altered text", bob, func(r *franking.Report) { r.Plaintext = []byte("pay me") }, kurir.EInvalid, "franking_invalid"},
			{"another sender", bob, func(r *franking.Report) { r.Context.Sender = int64(bob2.User) + 1000 }, kurir.EInvalid, "franking_invalid"},
			{"another time", bob, func(r *franking.Report) { r.Context.At = r.Context.At.Add(time.Microsecond) }, kurir.EInvalid, "franking_invalid"},
			{"the tag of another envelope", bob, func(r *franking.Report) { r.Tag = sent[1].Tag }, kurir.EInvalid, "franking_invalid"},
			{"another message's key and text", bob, func(r *franking.Report) {
				r.Plaintext, r.Key = []byte("an innocent message"), kf2
			}, kurir.EInvalid, "franking_invalid"},
			{"a tag of an unknown server key", bob, func(r *franking.Report) { r.Tag[0] = 9 }, kurir.EInvalid, "franking_invalid"},
			{"reported by another device of the recipient", bob2, func(r *franking.Report) {}, kurir.EForbidden, "secret_not_recipient"},
			{"reported by the sender", alice, func(r *franking.Report) {}, kurir.EForbidden, "secret_not_recipient"},
		}
		for _, c := range forged {
			r := genuine
			r.Plaintext = bytes.Clone(genuine.Plaintext)
			c.edit(&r)
			_, err := w.svc.Report(ctx, c.by, r, moderation.Harassment, "")
			wantCode(t, c.name, err, c.code, c.reason)
		}
		_, err = w.svc.Report(ctx, bob, genuine, "bogus", "")
		wantCode(t, "unknown reason", err, kurir.EInvalid, "unknown_reason")
		_, err = w.svc.Report(ctx, bob, genuine, moderation.Harassment, strings.Repeat("x", 501))
		wantCode(t, "a long comment", err, kurir.EInvalid, "too_long")
		if n := count(t, db, "mod_signals", ""); n != 0 {
			t.Fatalf("refused reports filed %d signals", n)
		}

		rep, err := w.svc.Report(ctx, bob, genuine, moderation.Harassment, "They keep threatening me.")
		if err != nil {
			t.Fatal(err)
		}
		if rep.Subject != (moderation.Subject{Kind: moderation.SubjectUser, User: alice.User}) || rep.Category != moderation.Harassment {
			t.Errorf("filed %+v, want a harassment report about alice", rep)
		}
		// The verified facts and the revealed text are the report's
		// evidence; its comment is the reporter's words alone.
		want := moderation.Evidence{Kind: moderation.EvidenceSecretFranking, Text: "pay me or else\uFFFD",
			Sender: alice.User, SenderDevice: alice.ID, Recipient: bob.User, RecipientDevice: bob.ID, SentAt: got[0].At, Envelope: got[0].ID}
		if rep.Evidence == nil || *rep.Evidence != want {
			t.Errorf("the report's evidence is %+v, want %+v", rep.Evidence, want)
		}
		if rep.Comment != "They keep threatening me." {
			t.Errorf("the report's comment is %q, want the reporter's words alone", rep.Comment)
		}
		_, err = w.svc.Report(ctx, bob, genuine, moderation.Harassment, "")
		wantCode(t, "the same report twice", err, kurir.EConflict, "already_reported")

		// A text as long as a message can be is kept whole; a longer one,
		// which only a client that breaks the message format sends, is cut
		// to what moderation keeps and says by how much. (Moderation counts
		// one report per reporter and subject, so carol and dave report.)
		for _, c := range []struct {
			name, text, kept string
			omitted          int
		}{
			{"carol", strings.Repeat("abusé ", 682) + "abus", strings.Repeat("abusé ", 682) + "abus", 0},
			{"david", strings.Repeat("abusé ", 700), strings.Repeat("abusé ", 682) + "abus", 6*700 - moderation.MaxEvidenceText},
		} {
			_, dev := w.user(t, c.name)
			w.publish(t, dev, 1)
			o, kf := outgoing(dev, "long-"+c.name, c.text)
			s, err := w.svc.Send(ctx, alice, []secret.Outgoing{o})
			if err != nil {
				t.Fatal(err)
			}
			r := franking.Report{Plaintext: []byte(c.text), Key: kf, Commitment: o.Commitment, Tag: s[0].Tag,
				Context: franking.Context{Sender: int64(alice.User), SenderDevice: alice.ID, Recipient: int64(dev.User),
					RecipientDevice: dev.ID, At: s[0].At, Envelope: s[0].ID}}
			rep, err := w.svc.Report(ctx, dev, r, moderation.Spam, "")
			if err != nil {
				t.Fatal(err)
			}
			if e := rep.Evidence; e == nil || e.Text != c.kept || e.Omitted != c.omitted || rep.Comment != "" {
				t.Errorf("%s's report of %d characters: comment %q, evidence %+v; want %d characters kept and %d omitted",
					c.name, len([]rune(c.text)), rep.Comment, e, len([]rune(c.kept)), c.omitted)
			}
		}
	}, schema...)
}

// TestNodesShareFrankingSecret starts several services on one database at
// once, as several nodes do: a tag stamped by one verifies on every other.
func TestNodesShareFrankingSecret(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		w := newWorld(t, db, nil)
		_, alice := w.user(t, "alice")
		_, bob := w.user(t, "bobby")
		w.publish(t, bob, 1)

		// The world's service was first; these race each other.
		nodes := make([]*secret.Service, 6)
		var wg sync.WaitGroup
		for i := range nodes {
			wg.Go(func() {
				s, err := secret.NewService(ctx, db, w.clock, nil, secret.Config{Reports: w.mod})
				if err != nil {
					t.Error(err)
				}
				nodes[i] = s
			})
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		if n := count(t, db, "secret_franking_keys", ""); n != 1 {
			t.Errorf("%d franking keys stored, want 1", n)
		}
		text := "verify me anywhere"
		o, kf := outgoing(bob, "m1", text)
		sent, err := nodes[0].Send(ctx, alice, []secret.Outgoing{o})
		if err != nil {
			t.Fatal(err)
		}
		r := franking.Report{Plaintext: []byte(text), Key: kf, Commitment: o.Commitment, Tag: sent[0].Tag,
			Context: franking.Context{Sender: int64(alice.User), SenderDevice: alice.ID, Recipient: int64(bob.User),
				RecipientDevice: bob.ID, At: sent[0].At, Envelope: sent[0].ID}}
		if _, err := nodes[5].Report(ctx, bob, r, moderation.Spam, ""); err != nil {
			t.Errorf("a tag from one node does not verify on another: %v", err)
		}
	}, schema...)
}

// FuzzCheckBody: the envelope framing check never panics, refuses with a
// clear EInvalid, and accepts only bodies of the documented shape.
func FuzzCheckBody(f *testing.F) {
	f.Add(body(true, 0))
	f.Add(body(false, 10))
	f.Add([]byte{})
	f.Add([]byte{1})
	f.Add([]byte{2, 1})
	b := body(true, 5)
	b[1+101] = 1
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		err := secret.CheckBody(b)
		if err != nil {
			if kurir.ErrorCode(err) != kurir.EInvalid || kurir.ErrorReason(err) == "" || kurir.ErrorMessage(err) == "" {
				t.Fatalf("CheckBody(%x) = %#v, want EInvalid with a reason and message", b, err)
			}
			return
		}
		msg := b[1:]
		if b[0] == 1 {
			var h protocol.InitialHeader
			n := 102
			if b[102] == 1 {
				n = 106
			}
			if err := h.UnmarshalBinary(b[1 : 1+n]); err != nil {
				t.Fatalf("accepted %x with a bad initial header: %v", b, err)
			}
			msg = b[1+n:]
		} else if b[0] != 2 {
			t.Fatalf("accepted %x of kind %d", b, b[0])
		}
		var m protocol.Message
		if err := m.UnmarshalBinary(msg); err != nil {
			t.Fatalf("accepted %x whose ratchet message does not decode: %v", b, err)
		}
	})
}

// TestSendLimits: a device that is away holds a bounded number of envelopes
// from each sender and from everyone; once it fetches them, there is room
// again.
func TestSendLimits(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		w := newWorldWith(t, db, secret.Config{Sends: &ratelimit.Limit{}, MaxPendingFromSender: 3, MaxPendingPerDevice: 5})
		_, alice := w.user(t, "alice")
		_, carol := w.user(t, "carol")
		_, bob := w.user(t, "bobby")
		w.publish(t, bob, 1)
		send := func(from secret.Device, id string) error {
			o, _ := outgoing(bob, id, "hello "+id)
			_, err := w.svc.Send(ctx, from, []secret.Outgoing{o})
			return err
		}
		for i := range 3 {
			if err := send(alice, fmt.Sprint("a", i)); err != nil {
				t.Fatal(err)
			}
		}
		wantCode(t, "alice's fourth waiting envelope", send(alice, "a3"), kurir.ERateLimited, "secret_queue_full")
		for i := range 2 {
			if err := send(carol, fmt.Sprint("c", i)); err != nil {
				t.Fatalf("carol's envelope %d while alice's are held back: %v", i, err)
			}
		}
		wantCode(t, "a sixth envelope for the device", send(carol, "c2"), kurir.ERateLimited, "secret_queue_full")
		if got, _ := w.svc.Pending(ctx, bob, 0); len(got) != 5 {
			t.Fatalf("%d envelopes wait, want the 5 allowed", len(got))
		}

		// Once the device has fetched and acknowledged them, there is room.
		got, err := w.svc.Pending(ctx, bob, 0)
		if err != nil {
			t.Fatal(err)
		}
		ids := make([]string, len(got))
		for i, e := range got {
			ids[i] = e.ID
		}
		if _, err := w.svc.Ack(ctx, bob, ids); err != nil {
			t.Fatal(err)
		}
		if err := send(alice, "a3"); err != nil {
			t.Errorf("after the device fetched its envelopes: %v", err)
		}
	}, schema...)
}

// TestSendRate: a user sends a bounded number of envelopes at once, then
// at a steady rate.
func TestSendRate(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		w := newWorldWith(t, db, secret.Config{Sends: &ratelimit.Limit{Every: time.Minute, Burst: 2}})
		_, alice := w.user(t, "alina")
		_, bob := w.user(t, "boris")
		w.publish(t, bob, 1)
		o1, _ := outgoing(bob, "r1", "one")
		o2, _ := outgoing(bob, "r2", "two")
		if _, err := w.svc.Send(ctx, alice, []secret.Outgoing{o1, o2}); err != nil {
			t.Fatal(err)
		}
		o3, _ := outgoing(bob, "r3", "three")
		_, err := w.svc.Send(ctx, alice, []secret.Outgoing{o3})
		wantCode(t, "a third envelope within the minute", err, kurir.ERateLimited, "too_many_sends")
		w.clock.Advance(time.Minute)
		if _, err := w.svc.Send(ctx, alice, []secret.Outgoing{o3}); err != nil {
			t.Errorf("a minute later: %v", err)
		}
	}, schema...)
}
