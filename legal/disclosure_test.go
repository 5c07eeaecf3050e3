package legal

import (
	"archive/zip"
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"kurir"
	"kurir/account"
	"kurir/blob"
	"kurir/messaging"
	"kurir/sqldb"
)

// The tests of disclosure packages run on the world of requests_test.go.
// Requests are written with SQL in the state a test needs, so that what is
// tested here is the package, not the workflow that leads to it.

// discSpec is an approved request to write.
type discSpec struct {
	kind     Kind
	process  Process
	targets  []Target
	from, to time.Time
	asked    []Category // default: approved
	approved []Category
	ndo      bool
	ndoEnd   time.Time
}

// discRequest writes an approved request of sess's agency.
func discRequest(w *world, sess OfficerSession, sp discSpec) Request {
	w.t.Helper()
	if sp.kind == "" {
		sp.kind = Disclosure
	}
	if sp.asked == nil {
		sp.asked = sp.approved
	}
	targets, err := json.Marshal(sp.targets)
	if err != nil {
		w.t.Fatal(err)
	}
	now := sqldb.Micros(w.clock.Now())
	var id int64
	err = w.db.WriteTx(w.ctx, func(tx *sqldb.Tx) error {
		return tx.QueryRowContext(w.ctx, `INSERT INTO legal_requests (number, agency_id, officer_id, kind, state, case_reference, legal_basis,
			process, issuing_authority, jurisdiction, targets, date_from, date_to, categories, approved, due_at, nondisclosure,
			nondisclosure_until, received_at, updated_at)
			VALUES ($1, $2, $3, $4, 'approved', 'ST 12/26', '§ 100g StPO', $5, 'Amtsgericht Köln', 'DE', $6, $7, $8, $9, $10, $11, $12, $13, $11, $11)
			RETURNING id`,
			fmt.Sprintf("LE-2026-T%d", time.Now().UnixNano()), sess.Officer.AgencyID, sess.Officer.ID, string(sp.kind), string(sp.process),
			string(targets), optMicros(sp.from), optMicros(sp.to), joinCategories(sp.asked), joinCategories(sp.approved), now,
			boolInt(sp.ndo), optMicros(sp.ndoEnd)).Scan(&id)
	})
	if err != nil {
		w.t.Fatalf("write request: %v", err)
	}
	r, err := w.svc.request(w.ctx, w.db.Read(), id)
	if err != nil {
		w.t.Fatal(err)
	}
	return r
}

func userTarget(u kurir.UserID) Target {
	return Target{Kind: TargetUser, Value: fmt.Sprint(u), User: u}
}

// discFetch reads a package's zip from the blob store.
func discFetch(w *world, p Package) []byte {
	w.t.Helper()
	h, err := blob.ParseHash(p.SHA256)
	if err != nil {
		w.t.Fatal(err)
	}
	obj, err := w.svc.blobs.Open(w.ctx, h)
	if err != nil {
		w.t.Fatalf("open package %d: %v", p.ID, err)
	}
	defer obj.Close()
	b, err := io.ReadAll(obj)
	if err != nil {
		w.t.Fatal(err)
	}
	return b
}

// zipEntryData is one file of a zip, in the zip's order.
type zipEntryData struct {
	name string
	data []byte
}

func discUnzip(t *testing.T, b []byte) []zipEntryData {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var out []zipEntryData
	for _, f := range zr.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, zipEntryData{f.Name, data})
	}
	return out
}

func discZip(t *testing.T, files []zipEntryData) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		w, err := zw.Create(f.name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(f.data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func discFile(t *testing.T, files []zipEntryData, name string) []byte {
	t.Helper()
	for _, f := range files {
		if f.name == name {
			return f.data
		}
	}
	t.Fatalf("the package has no %s", name)
	return nil
}

func discNames(files []zipEntryData) []string {
	var names []string
	for _, f := range files {
		names = append(names, f.name)
	}
	return names
}

func discCount(w *world, query string, args ...any) int {
	w.t.Helper()
	var n int
	if err := w.db.Read().QueryRowContext(w.ctx, query, args...).Scan(&n); err != nil {
		w.t.Fatalf("%s: %v", query, err)
	}
	return n
}

func discPublicKey(w *world) ed25519.PublicKey {
	w.t.Helper()
	pub, err := w.svc.PublicKey(w.ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	return pub
}

func notHeldWhat(m Manifest) []string {
	var out []string
	for _, n := range m.NotHeld {
		out = append(out, n.What)
	}
	return out
}

// TestPackageHoldsOnlyApprovedCategoriesAndVerifies: a package under a
// subpoena with subscriber data approved (access asked for, not approved)
// verifies with the published key, holds subscriber data only, and says
// what it does not hold; changing any byte breaks verification.
func TestPackageHoldsOnlyApprovedCategoriesAndVerifies(t *testing.T) {
	run(t, func(t *testing.T, w *world) {
		suspect := w.user("suspect")
		if _, _, _, err := w.acc.Login(w.ctx, account.LoginParams{Username: "suspect", Password: "wet-otter-lantern-9", DeviceName: "Pixel 8", IP: "203.0.113.7"}); err != nil {
			t.Fatal(err)
		}
		bka := w.officer("BKA", "DE", false)
		r := discRequest(w, bka, discSpec{process: Subpoena, asked: []Category{Subscriber, Access}, approved: []Category{Subscriber},
			targets: []Target{userTarget(suspect), {Kind: TargetLink, Value: "https://kurir.example/@plotters", Chat: 7}}})

		p, err := w.svc.buildPackage(w.ctx, r, w.legal)
		if err != nil {
			t.Fatalf("buildPackage: %v", err)
		}
		zipped := discFetch(w, p)
		if int64(len(zipped)) != p.Size {
			t.Errorf("the stored zip is %d bytes, the package says %d", len(zipped), p.Size)
		}
		pub := discPublicKey(w)
		m, err := VerifyPackage(zipped, pub)
		if err != nil {
			t.Fatalf("VerifyPackage: %v", err)
		}
		if err := VerifyManifest(p.Manifest, p.Signature, pub); err != nil {
			t.Errorf("VerifyManifest of the recorded manifest: %v", err)
		}
		files := discUnzip(t, zipped)
		subscriberFile := fmt.Sprintf("subscriber/%d.json", suspect)
		if got, want := discNames(files), []string{ManifestFile, SignatureFile, subscriberFile}; !slices.Equal(got, want) {
			t.Errorf("the zip holds %q, want %q (no access data: it was not approved)", got, want)
		}
		if !bytes.Equal(discFile(t, files, ManifestFile), p.Manifest) {
			t.Error("the zip's manifest differs from the one recorded")
		}
		if m.Request != r.Number || m.Agency != "BKA" || m.Process != Subpoena || m.IssuingAuthority != "Amtsgericht Köln" || m.Jurisdiction != "DE" {
			t.Errorf("manifest header = %+v", m)
		}
		if !slices.Equal(m.Categories, []Category{Subscriber}) || len(m.Targets) != 2 || m.Targets[0].User != suspect {
			t.Errorf("manifest categories %v, targets %+v", m.Categories, m.Targets)
		}
		if len(m.Files) != 1 || m.Files[0].Category != Subscriber || m.Files[0].UserID != suspect {
			t.Errorf("manifest files = %+v", m.Files)
		}
		if got, want := notHeldWhat(m), []string{"secret_chats", "content", "link:https://kurir.example/@plotters"}; !slices.Equal(got, want) {
			t.Errorf("not_held = %q, want %q", got, want)
		}
		if !strings.Contains(m.NotHeld[0].Why, "end-to-end encrypted") {
			t.Errorf("the secret-chat line says %q", m.NotHeld[0].Why)
		}
		var sub subscriberData
		if err := json.Unmarshal(discFile(t, files, subscriberFile), &sub); err != nil {
			t.Fatal(err)
		}
		if sub.UserID != suspect || sub.Username != "suspect" || sub.Phone != phoneOf("suspect") || sub.State != account.StateActive || sub.CreatedAt.IsZero() {
			t.Errorf("subscriber data = %+v", sub)
		}
		if n := discCount(w, `SELECT COUNT(*) FROM audit_log WHERE action = 'legal.package' AND subject = $1`, "legal_request:"+r.Number); n != 1 {
			t.Errorf("%d legal.package audit entries, want 1", n)
		}

		// The same data at the same moment makes the same bytes.
		again, err := w.svc.buildPackage(w.ctx, r, w.legal)
		if err != nil {
			t.Fatal(err)
		}
		if again.SHA256 != p.SHA256 || again.ID == p.ID {
			t.Errorf("a second build: package %d sha256 %s; want a new package with the same bytes as %d (%s)", again.ID, again.SHA256, p.ID, p.SHA256)
		}

		flip := func(name string) []zipEntryData {
			out := slices.Clone(files)
			for i, f := range out {
				if f.name == name {
					b := slices.Clone(f.data)
					b[len(b)/2] ^= 1
					out[i].data = b
				}
			}
			return out
		}
		other, _, _ := ed25519.GenerateKey(nil)
		for _, c := range []struct {
			name  string
			zip   []byte
			key   ed25519.PublicKey
			wrong bool // an error, but not ErrTampered
		}{
			{"a byte of a data file", discZip(t, flip(subscriberFile)), pub, false},
			{"a byte of the manifest", discZip(t, flip(ManifestFile)), pub, false},
			{"a file the manifest does not list", discZip(t, append(slices.Clone(files), zipEntryData{fmt.Sprintf("access/%d.json", suspect), []byte("{}\n")})), pub, false},
			{"a file left out", discZip(t, files[:2]), pub, false},
			{"no signature", discZip(t, slices.Delete(slices.Clone(files), 1, 2)), pub, false},
			{"another operator's key", zipped, other, false},
			{"not a zip", []byte("PK not really"), pub, true},
		} {
			_, err := VerifyPackage(c.zip, c.key)
			if err == nil || errors.Is(err, ErrTampered) == c.wrong {
				t.Errorf("VerifyPackage with %s changed: %v; want ErrTampered: %v", c.name, err, !c.wrong)
			}
		}
		tampered := bytes.Clone(p.Manifest)
		tampered[10] ^= 1
		if err := VerifyManifest(tampered, p.Signature, pub); !errors.Is(err, ErrTampered) {
			t.Errorf("VerifyManifest of a changed manifest: %v", err)
		}
	})
}

// TestDisclosureOfContentOnlyUnderAWarrantAndWithinTheDateRange: content approved on a
// subpoena is refused and nothing is stored; under a warrant the package
// holds the messages the target sent in the date range (those removed by
// moderation with what they said, edited ones as they read now), and the
// sessions in use then.
func TestDisclosureOfContentOnlyUnderAWarrantAndWithinTheDateRange(t *testing.T) {
	run(t, func(t *testing.T, w *world) {
		suspect, friend := w.user("suspect"), w.user("friend")
		login := func(device, ip string) {
			t.Helper()
			if _, _, _, err := w.acc.Login(w.ctx, account.LoginParams{Username: "suspect", Password: "wet-otter-lantern-9", DeviceName: device, IP: ip}); err != nil {
				t.Fatal(err)
			}
		}
		chat, err := w.msg.OpenPrivate(w.ctx, suspect, friend)
		if err != nil {
			t.Fatal(err)
		}
		send := func(from kurir.UserID, text string) messaging.Message {
			t.Helper()
			m, err := w.msg.Send(w.ctx, from, chat.ID, messaging.SendParams{Text: text, IdempotencyKey: fmt.Sprintf("k-%d", time.Now().UnixNano())})
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		t0 := w.clock.Now()
		login("Old laptop", "198.51.100.1")
		send(suspect, "before the range")
		w.clock.Advance(time.Hour)
		login("Pixel 8", "203.0.113.7")
		meet := send(suspect, "meet at the harbour")
		if _, err := w.msg.Edit(w.ctx, suspect, chat.ID, meet.Seq, "meet at the old harbour"); err != nil {
			t.Fatal(err)
		}
		send(friend, "the friend's reply")
		w.clock.Advance(time.Hour)
		removed := send(suspect, "bring the package")
		w.clock.Advance(time.Hour)
		send(suspect, "after the range")
		if _, err := w.msg.RemoveMessage(w.ctx, chat.ID, removed.Seq, "illegal goods"); err != nil {
			t.Fatal(err)
		}
		bka := w.officer("BKA", "DE", false)
		from, to := t0.Add(30*time.Minute), t0.Add(150*time.Minute)

		sub := discRequest(w, bka, discSpec{process: Subpoena, approved: []Category{Subscriber, Content}, from: from, to: to,
			targets: []Target{userTarget(suspect)}})
		_, err = w.svc.buildPackage(w.ctx, sub, w.legal)
		if kurir.ErrorCode(err) != kurir.EInvalid || kurir.ErrorReason(err) != "content_needs_warrant" {
			t.Errorf("content under a subpoena: %v; want EInvalid content_needs_warrant", err)
		}
		if n := discCount(w, `SELECT COUNT(*) FROM legal_packages`); n != 0 {
			t.Errorf("%d packages stored after a refusal", n)
		}

		war := discRequest(w, bka, discSpec{process: Warrant, approved: []Category{Subscriber, Access, Content}, from: from, to: to,
			targets: []Target{userTarget(suspect)}})
		p, err := w.svc.buildPackage(w.ctx, war, w.legal)
		if err != nil {
			t.Fatalf("buildPackage under a warrant: %v", err)
		}
		zipped := discFetch(w, p)
		m, err := VerifyPackage(zipped, discPublicKey(w))
		if err != nil {
			t.Fatal(err)
		}
		if got := notHeldWhat(m); slices.Contains(got, "content") || !slices.Contains(got, "earlier_versions") || !m.From.Equal(from) || !m.To.Equal(to) {
			t.Errorf("manifest: not_held %q, range %v to %v", notHeldWhat(m), m.From, m.To)
		}
		files := discUnzip(t, zipped)
		want := []string{ManifestFile, SignatureFile, fmt.Sprintf("subscriber/%d.json", suspect), fmt.Sprintf("access/%d.json", suspect),
			fmt.Sprintf("content/%d.json", suspect)}
		if got := discNames(files); !slices.Equal(got, want) {
			t.Fatalf("the zip holds %q, want %q", got, want)
		}
		var content contentData
		if err := json.Unmarshal(discFile(t, files, want[4]), &content); err != nil {
			t.Fatal(err)
		}
		var texts []string
		for _, msg := range content.Messages {
			texts = append(texts, msg.Text)
		}
		if !slices.Equal(texts, []string{"meet at the old harbour", "bring the package"}) {
			t.Errorf("content = %q; want the suspect's two messages in the range, the removed one with its text", texts)
		}
		if len(content.Messages) == 2 && (content.Messages[1].RemovedAt.IsZero() || !content.Messages[0].RemovedAt.IsZero()) {
			t.Errorf("removal marks: %+v", content.Messages)
		}
		var access accessData
		if err := json.Unmarshal(discFile(t, files, want[3]), &access); err != nil {
			t.Fatal(err)
		}
		if len(access.Sessions) != 1 || access.Sessions[0].IP != "203.0.113.7" || access.Sessions[0].DeviceName != "Pixel 8" {
			t.Errorf("access = %+v; want only the session in use in the range", access.Sessions)
		}
	})
}

// TestPackageOfDeletedAccounts: a deleted account a legal hold kept is
// disclosed; one deleted without a hold is gone, and the manifest says so.
func TestPackageOfDeletedAccounts(t *testing.T) {
	run(t, func(t *testing.T, w *world) {
		kept, gone := w.user("keptdata"), w.user("gonedata")
		if _, err := w.acc.PlaceHold(w.ctx, kept, "LE-2026-000001", time.Time{}); err != nil {
			t.Fatal(err)
		}
		for _, u := range []kurir.UserID{kept, gone} {
			if _, err := w.acc.RequestDeletion(w.ctx, u, "wet-otter-lantern-9"); err != nil {
				t.Fatal(err)
			}
		}
		w.clock.Advance(8 * 24 * time.Hour)
		if d, wiped, err := w.acc.PurgeDue(w.ctx); err != nil || d != 2 || wiped != 1 {
			t.Fatalf("PurgeDue = %d deleted, %d wiped, %v; want 2, 1", d, wiped, err)
		}
		r := discRequest(w, w.officer("BKA", "DE", false), discSpec{process: CourtOrder, approved: []Category{Subscriber},
			targets: []Target{userTarget(kept), userTarget(gone)}})
		p, err := w.svc.buildPackage(w.ctx, r, w.legal)
		if err != nil {
			t.Fatal(err)
		}
		m, err := VerifyPackage(discFetch(w, p), discPublicKey(w))
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Files) != 1 || m.Files[0].UserID != kept {
			t.Errorf("files = %+v; want the held account's subscriber data only", m.Files)
		}
		if got := notHeldWhat(m); !slices.Contains(got, fmt.Sprintf("user:%d", gone)) || slices.Contains(got, fmt.Sprintf("user:%d", kept)) {
			t.Errorf("not_held = %q; want a line for the wiped account only", got)
		}
	})
}

// TestUserNoticeWaitsForTheNonDisclosureOrder: a user learns of a
// disclosure when it is fulfilled, or, under a non-disclosure order, once
// the order has ended; never while an open-ended order stands.
func TestUserNoticeWaitsForTheNonDisclosureOrder(t *testing.T) {
	run(t, func(t *testing.T, w *world) {
		suspect := w.user("suspect")
		bka := w.officer("BKA", "DE", false)
		spec := discSpec{process: CourtOrder, approved: []Category{Subscriber}, targets: []Target{userTarget(suspect)}}
		fulfil := func(r Request) {
			t.Helper()
			if _, _, err := w.svc.Fulfil(w.ctx, w.legal, r.ID); err != nil {
				t.Fatalf("Fulfil %s: %v", r.Number, err)
			}
		}
		notices := func() []UserNotice {
			t.Helper()
			ns, err := w.svc.NoticesFor(w.ctx, suspect)
			if err != nil {
				t.Fatal(err)
			}
			return ns
		}
		notifyDue := func(want int) {
			t.Helper()
			if n, err := w.svc.NotifyDue(w.ctx); n != want || err != nil {
				t.Errorf("NotifyDue = %d, %v; want %d", n, err, want)
			}
		}

		open := discRequest(w, bka, spec)
		fulfil(open)
		ns := notices()
		if len(ns) != 1 || ns[0].RequestNumber != open.Number || !slices.Equal(ns[0].Categories, []Category{Subscriber}) ||
			ns[0].Authority != "Amtsgericht Köln" || ns[0].Country != "DE" || !ns[0].At.Equal(w.clock.Now().UTC().Truncate(time.Microsecond)) {
			t.Fatalf("notices after a fulfilment without an order = %+v", ns)
		}

		spec.ndo, spec.ndoEnd = true, w.clock.Now().Add(30*24*time.Hour)
		gagged := discRequest(w, bka, spec)
		spec.ndoEnd = time.Time{}
		forever := discRequest(w, bka, spec)
		fulfil(gagged)
		fulfil(forever)
		if ns := notices(); len(ns) != 1 {
			t.Errorf("notices while the orders stand = %+v", ns)
		}
		notifyDue(0)
		w.clock.Advance(31 * 24 * time.Hour)
		notifyDue(1)
		notifyDue(0)
		ns = notices()
		if len(ns) != 2 || ns[0].RequestNumber != gagged.Number {
			t.Errorf("notices once the order ended = %+v; want the gagged request's, newest first", ns)
		}
		if n := discCount(w, `SELECT COUNT(*) FROM legal_events WHERE request_id = $1 AND kind = 'users_notified'`, gagged.ID); n != 1 {
			t.Errorf("%d users_notified events on the timeline, want 1", n)
		}
	})
}

// TestDisclosureDownloadIsForTheRequestingAgencyAndLogged: another agency cannot
// tell that a package exists; the requesting agency's officer gets the
// package, and the download is on record three times over.
func TestDisclosureDownloadIsForTheRequestingAgencyAndLogged(t *testing.T) {
	run(t, func(t *testing.T, w *world) {
		suspect := w.user("suspect")
		bka, nca := w.officer("BKA", "DE", false), w.officer("NCA", "GB", false)
		r := discRequest(w, bka, discSpec{process: CourtOrder, approved: []Category{Subscriber}, targets: []Target{userTarget(suspect)}})
		p, err := w.svc.buildPackage(w.ctx, r, w.legal)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := w.svc.Download(w.ctx, bka, r.ID, "192.0.2.1"); kurir.ErrorCode(err) != kurir.EConflict {
			t.Errorf("download of a request approved, not yet fulfilled: %v", err)
		}
		if err := w.db.WriteTx(w.ctx, func(tx *sqldb.Tx) error {
			_, err := tx.ExecContext(w.ctx, `UPDATE legal_requests SET state = 'fulfilled' WHERE id = $1`, r.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		_, _, errOther := w.svc.Download(w.ctx, nca, r.ID, "192.0.2.9")
		_, _, errNone := w.svc.Download(w.ctx, nca, r.ID+1000, "192.0.2.9")
		if kurir.ErrorCode(errOther) != kurir.ENotFound ||
			strings.ReplaceAll(kurir.ErrorMessage(errOther), fmt.Sprint(r.ID), "N") != strings.ReplaceAll(kurir.ErrorMessage(errNone), fmt.Sprint(r.ID+1000), "N") {
			t.Errorf("another agency's download: %v; want the answer for a request that does not exist (%v)", errOther, errNone)
		}
		setup := bka
		setup.SecondFactor = false
		if _, _, err := w.svc.Download(w.ctx, setup, r.ID, "192.0.2.1"); kurir.ErrorCode(err) != kurir.EForbidden {
			t.Errorf("download in a setup session: %v", err)
		}
		if n := discCount(w, `SELECT COUNT(*) FROM legal_downloads`); n != 0 {
			t.Fatalf("%d downloads recorded for refused downloads", n)
		}

		got, rc, err := w.svc.Download(w.ctx, bka, r.ID, "192.0.2.1")
		if err != nil {
			t.Fatalf("Download: %v", err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != p.ID || int64(len(b)) != p.Size {
			t.Errorf("downloaded package %d, %d bytes; want %d, %d", got.ID, len(b), p.ID, p.Size)
		}
		if _, err := VerifyPackage(b, discPublicKey(w)); err != nil {
			t.Errorf("the downloaded package does not verify: %v", err)
		}
		if n := discCount(w, `SELECT COUNT(*) FROM legal_downloads WHERE package_id = $1 AND officer_id = $2 AND ip = '192.0.2.1'`, p.ID, bka.Officer.ID); n != 1 {
			t.Errorf("%d download records, want 1", n)
		}
		if n := discCount(w, `SELECT COUNT(*) FROM legal_events WHERE request_id = $1 AND kind = 'downloaded' AND actor = 'officer'
			AND actor_id = $2 AND note = $3 AND officer_visible = 1`, r.ID, bka.Officer.ID, fmt.Sprintf("package %d", p.ID)); n != 1 {
			t.Errorf("%d downloaded events on the timeline, want 1", n)
		}
		if n := discCount(w, `SELECT COUNT(*) FROM audit_log WHERE action = 'legal.download' AND subject = $1`, "legal_request:"+r.Number); n != 1 {
			t.Errorf("%d legal.download audit entries, want 1", n)
		}
	})
}

// TestDisclosureSigningKeyIsCreatedOnceAcrossNodes: nodes that ask for the key at
// once all get the one key stored.
func TestDisclosureSigningKeyIsCreatedOnceAcrossNodes(t *testing.T) {
	run(t, func(t *testing.T, w *world) {
		const nodes = 8
		keys := make([]ed25519.PublicKey, nodes)
		errs := make([]error, nodes)
		var wg sync.WaitGroup
		for i := range nodes {
			node := NewService(w.db, w.svc.blobs, w.acc, w.msg, w.mod, w.clock, nil, Config{})
			wg.Go(func() { keys[i], errs[i] = node.PublicKey(w.ctx) })
		}
		wg.Wait()
		for i := range nodes {
			if errs[i] != nil {
				t.Fatalf("node %d: %v", i, errs[i])
			}
			if !keys[i].Equal(keys[0]) {
				t.Errorf("node %d has key %x, node 0 %x", i, keys[i], keys[0])
			}
		}
		if n := discCount(w, `SELECT COUNT(*) FROM legal_keys`); n != 1 {
			t.Errorf("%d signing keys stored, want 1", n)
		}
	})
}

// TestFulfilTwiceAtOnceMakesOnePackage: two of the legal team fulfilling
// the same request at the same moment record one package; the other is
// told the request is no longer approved.
func TestFulfilTwiceAtOnceMakesOnePackage(t *testing.T) {
	run(t, func(t *testing.T, w *world) {
		suspect := w.user("suspect")
		r := discRequest(w, w.officer("BKA", "DE", false), discSpec{process: CourtOrder, approved: []Category{Subscriber},
			targets: []Target{userTarget(suspect)}})
		var errs [2]error
		var pkgs [2]*Package
		var wg sync.WaitGroup
		for i := range errs {
			wg.Go(func() { _, pkgs[i], errs[i] = w.svc.Fulfil(w.ctx, w.legal, r.ID) })
		}
		wg.Wait()
		ok := 0
		for i, err := range errs {
			switch {
			case err == nil && pkgs[i] != nil && pkgs[i].ID != 0:
				ok++
			case kurir.ErrorCode(err) == kurir.EConflict && pkgs[i] == nil:
			default:
				t.Errorf("Fulfil %d = %+v, %v; want a package or EConflict", i, pkgs[i], err)
			}
		}
		var n int
		if err := w.db.Read().QueryRowContext(w.ctx, `SELECT COUNT(*) FROM legal_packages WHERE request_id = $1`, r.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if ok != 1 || n != 1 {
			t.Errorf("%d fulfilments succeeded and %d packages were recorded; want one of each", ok, n)
		}
	})
}
