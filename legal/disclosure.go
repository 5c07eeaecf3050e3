package legal

import (
	"archive/zip"
	"bytes"
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"time"

	"kurir"
	"kurir/account"
	"kurir/blob"
	"kurir/messaging"
	"kurir/sqldb"
)

// This file holds what a disclosure hands over and how its recipient can
// trust it. A package is a zip of one JSON file per category and account,
// beside manifest.json (what it holds, with each file's SHA-256) and
// manifest.sig (the operator's Ed25519 signature of manifest.json, in
// base64). The zip is built in memory and deterministically: the same
// data at the same time makes the same bytes.

// The files of a package besides the data files.
const (
	ManifestFile  = "manifest.json"
	SignatureFile = "manifest.sig"
)

// What every manifest says is not held.
const (
	secretChatsWhat = "secret_chats"
	secretChatsWhy  = "Secret chats are end-to-end encrypted: the server holds only ciphertext and cannot read or disclose their content."
)

// Bounds on what VerifyPackage reads, so that a hostile zip cannot
// exhaust memory.
const (
	maxManifest  = 64 << 20
	maxSignature = 1 << 10
)

// ErrTampered is what VerifyManifest and VerifyPackage return, wrapped with
// the failing check, for a package that is not as the operator signed it.
var ErrTampered = errors.New("the disclosure package does not verify")

// Manifest lists what a disclosure package holds. Its JSON is manifest.json,
// the bytes the operator signs.
type Manifest struct {
	Request          string     `json:"request"` // the case number
	Agency           string     `json:"agency"`
	IssuingAuthority string     `json:"issuing_authority"`
	Jurisdiction     string     `json:"jurisdiction"`
	Process          Process    `json:"process"`
	Categories       []Category `json:"categories"` // as approved, in the order of Categories
	Targets          []Target   `json:"targets"`    // as filed, and what each resolved to
	// From and To are the date range of content and access data; zero: open.
	From        time.Time     `json:"date_from,omitzero"`
	To          time.Time     `json:"date_to,omitzero"`
	GeneratedAt time.Time     `json:"generated_at"`
	Files       []PackageFile `json:"files"`
	NotHeld     []NotHeld     `json:"not_held"`
	PublicKey   string        `json:"public_key"` // base64 Ed25519: compare with the key the operator publishes
}

// PackageFile is a data file of a package, as its manifest lists it.
type PackageFile struct {
	Name     string       `json:"name"` // e.g. subscriber/42.json
	SHA256   string       `json:"sha256"`
	Size     int64        `json:"size"`
	Category Category     `json:"category"`
	UserID   kurir.UserID `json:"user_id"`
}

// NotHeld is something the package does not hold, and why.
type NotHeld struct {
	What string `json:"what"`
	Why  string `json:"why"`
}

// signingKey returns the operator's key for signing manifests: the one row
// of legal_keys, created on first use. Nodes that race to create it agree
// on the first one stored.
func (s *Service) signingKey(ctx context.Context) (ed25519.PrivateKey, error) {
	key, err := loadKey(ctx, s.db.Read())
	if !errors.Is(err, sql.ErrNoRows) {
		return key, err
	}
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		return nil, fmt.Errorf("generate signing key: %w", err)
	}
	err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO legal_keys (id, private_key, public_key, created_at) VALUES (1, $1, $2, $3)
			ON CONFLICT (id) DO NOTHING`, base64.StdEncoding.EncodeToString(priv.Seed()), base64.StdEncoding.EncodeToString(pub),
			sqldb.Micros(s.now())); err != nil {
			return fmt.Errorf("store signing key: %w", err)
		}
		key, err = loadKey(ctx, tx)
		return err
	})
	return key, err
}

// loadKey reads the signing key, or sql.ErrNoRows if there is none yet.
func loadKey(ctx context.Context, q sqldb.Querier) (ed25519.PrivateKey, error) {
	var seed, pub string
	err := q.QueryRowContext(ctx, `SELECT private_key, public_key FROM legal_keys WHERE id = 1`).Scan(&seed, &pub)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		return nil, fmt.Errorf("load signing key: %w", err)
	}
	raw, err := base64.StdEncoding.DecodeString(seed)
	if err != nil || len(raw) != ed25519.SeedSize {
		return nil, errors.New("load signing key: the stored seed is not 32 bytes of base64")
	}
	key := ed25519.NewKeyFromSeed(raw)
	if base64.StdEncoding.EncodeToString(key.Public().(ed25519.PublicKey)) != pub {
		return nil, errors.New("load signing key: the stored public key does not match the private key")
	}
	return key, nil
}

// PublicKey returns the key that verifies disclosure manifests, which the
// operator publishes; it creates the key pair if there is none yet.
func (s *Service) PublicKey(ctx context.Context) (ed25519.PublicKey, error) {
	key, err := s.signingKey(ctx)
	if err != nil {
		return nil, err
	}
	return key.Public().(ed25519.PublicKey), nil
}

// VerifyManifest checks that signature (raw, not base64) is the Ed25519
// signature by pub of manifest, byte for byte. It returns an error wrapping
// ErrTampered if not.
func VerifyManifest(manifest, signature []byte, pub ed25519.PublicKey) error {
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("verify manifest: a public key is %d bytes, not %d", ed25519.PublicKeySize, len(pub))
	}
	if !ed25519.Verify(pub, manifest, signature) {
		return fmt.Errorf("%w: the manifest's signature is not valid for this public key", ErrTampered)
	}
	return nil
}

// VerifyPackage checks a whole package as its recipient would: the
// signature of manifest.json (manifest.sig holds it in base64), the
// SHA-256 and size of every file the manifest lists, and that the zip holds
// nothing else. It returns the manifest once all of that holds, and
// otherwise an error wrapping ErrTampered (or, for a file that is not a zip
// at all, the zip error).
func VerifyPackage(zipBytes []byte, pub ed25519.PublicKey) (Manifest, error) {
	zr, err := zip.NewReader(bytes.NewReader(zipBytes), int64(len(zipBytes)))
	if err != nil {
		return Manifest{}, fmt.Errorf("verify package: %w", err)
	}
	files := make(map[string]*zip.File, len(zr.File))
	for _, f := range zr.File {
		if files[f.Name] != nil {
			return Manifest{}, fmt.Errorf("%w: the zip holds %s twice", ErrTampered, f.Name)
		}
		files[f.Name] = f
	}
	manifest, err := readZipFile(files[ManifestFile], ManifestFile, maxManifest)
	if err != nil {
		return Manifest{}, err
	}
	sigText, err := readZipFile(files[SignatureFile], SignatureFile, maxSignature)
	if err != nil {
		return Manifest{}, err
	}
	sig, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(sigText)))
	if err != nil {
		return Manifest{}, fmt.Errorf("%w: %s is not base64", ErrTampered, SignatureFile)
	}
	if err := VerifyManifest(manifest, sig, pub); err != nil {
		return Manifest{}, err
	}
	var m Manifest
	if err := json.Unmarshal(manifest, &m); err != nil {
		return Manifest{}, fmt.Errorf("verify package: the signed manifest is not valid JSON: %w", err)
	}
	if m.PublicKey != base64.StdEncoding.EncodeToString(pub) {
		return Manifest{}, fmt.Errorf("%w: the manifest names another public key than the one that verifies it", ErrTampered)
	}
	listed := map[string]bool{ManifestFile: true, SignatureFile: true}
	for _, fi := range m.Files {
		if listed[fi.Name] {
			return Manifest{}, fmt.Errorf("%w: the manifest lists %s twice", ErrTampered, fi.Name)
		}
		listed[fi.Name] = true
		data, err := readZipFile(files[fi.Name], fi.Name, fi.Size)
		if err != nil {
			return Manifest{}, err
		}
		if int64(len(data)) != fi.Size {
			return Manifest{}, fmt.Errorf("%w: %s is %d bytes, the manifest says %d", ErrTampered, fi.Name, len(data), fi.Size)
		}
		if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != fi.SHA256 {
			return Manifest{}, fmt.Errorf("%w: the SHA-256 of %s differs from the manifest's", ErrTampered, fi.Name)
		}
	}
	for _, f := range zr.File {
		if !listed[f.Name] {
			return Manifest{}, fmt.Errorf("%w: the zip holds %s, which the manifest does not list", ErrTampered, f.Name)
		}
	}
	return m, nil
}

// readZipFile reads f, which must exist, up to limit bytes (one more shows
// it is longer). The zip reader checks the file's CRC-32 as it ends.
func readZipFile(f *zip.File, name string, limit int64) ([]byte, error) {
	if f == nil {
		return nil, fmt.Errorf("%w: the zip has no %s", ErrTampered, name)
	}
	r, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%w: open %s: %v", ErrTampered, name, err)
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%w: read %s: %v", ErrTampered, name, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: %s is longer than %d bytes", ErrTampered, name, limit)
	}
	return data, nil
}

// The data files of a package.

type subscriberData struct {
	UserID      kurir.UserID  `json:"user_id"`
	Username    string        `json:"username"`
	DisplayName string        `json:"display_name"`
	Email       string        `json:"email"`
	Phone       string        `json:"phone"`
	Country     string        `json:"declared_country"`
	CreatedAt   time.Time     `json:"registered_at"`
	State       account.State `json:"state"`
}

type accessData struct {
	UserID   kurir.UserID    `json:"user_id"`
	Sessions []accessSession `json:"sessions"`
}

type accessSession struct {
	DeviceName string    `json:"device_name"`
	IP         string    `json:"ip"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
}

type contentData struct {
	UserID   kurir.UserID    `json:"user_id"`
	Messages []contentRecord `json:"messages"`
}

type contentRecord struct {
	Chat     messaging.ChatID      `json:"chat_id"`
	Seq      int64                 `json:"seq"`
	SentAt   time.Time             `json:"sent_at"`
	EditedAt time.Time             `json:"edited_at,omitzero"`
	Text     string                `json:"text"`
	ReplyTo  int64                 `json:"reply_to,omitempty"`
	Forward  *contentForward       `json:"forwarded_from,omitempty"`
	Media    *messaging.Attachment `json:"media,omitempty"`
	// Deleted: its author or a chat admin deleted it, and its text is gone.
	Deleted bool `json:"deleted,omitempty"`
	// RemovedAt: moderation removed it (or held it for review) then; the
	// text is what it said.
	RemovedAt time.Time `json:"removed_by_moderation_at,omitzero"`
}

type contentForward struct {
	Chat   messaging.ChatID `json:"chat_id"`
	Seq    int64            `json:"seq"`
	Sender kurir.UserID     `json:"sender_id"`
	At     time.Time        `json:"sent_at"`
}

// zipEntry is a data file before it is zipped.
type zipEntry struct {
	PackageFile
	data []byte
}

// buildPackage makes, signs and stores the disclosure package of an
// approved request (see makePackage), records it in legal_packages and the
// audit log, and returns it. It runs its own transactions, so its caller
// must not hold one.
func (s *Service) buildPackage(ctx context.Context, req Request, by Staff) (Package, error) {
	p, err := s.makePackage(ctx, req, by)
	if err != nil {
		return Package{}, err
	}
	err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error { return s.recordPackage(ctx, tx, req, by, &p) })
	if err != nil {
		return Package{}, err
	}
	return p, nil
}

// makePackage makes, signs and stores in the blob store the disclosure
// package of an approved request with the categories the legal team
// approved; recordPackage then records it. Only accounts are disclosed:
// targets that name a chat or a message add a line to the manifest's
// not_held. Content needs a process in contentProcesses, which is checked
// again here: otherwise EInvalid "content_needs_warrant".
func (s *Service) makePackage(ctx context.Context, req Request, by Staff) (Package, error) {
	if err := mayReview(by); err != nil {
		return Package{}, err
	}
	if err := disclosable(req); err != nil {
		return Package{}, err
	}
	ag, err := s.agency(ctx, s.db.Read(), req.AgencyID)
	if err != nil {
		return Package{}, err
	}
	key, err := s.signingKey(ctx)
	if err != nil {
		return Package{}, err
	}
	now := s.now()
	m := Manifest{
		Request: req.Number, Agency: ag.Name, IssuingAuthority: req.IssuingAuthority, Jurisdiction: req.Jurisdiction,
		Process: req.Process, Targets: req.Targets, From: req.From, To: req.To, GeneratedAt: now,
		Files:     []PackageFile{},
		NotHeld:   []NotHeld{{What: secretChatsWhat, Why: secretChatsWhy}},
		PublicKey: base64.StdEncoding.EncodeToString(key.Public().(ed25519.PublicKey)),
	}
	if m.Targets == nil {
		m.Targets = []Target{}
	}
	for _, c := range Categories {
		if slices.Contains(req.Approved, c) {
			m.Categories = append(m.Categories, c)
		}
	}
	if !slices.Contains(m.Categories, Content) {
		m.NotHeld = append(m.NotHeld, NotHeld{What: string(Content),
			Why: "The content of messages was not approved for disclosure under this request."})
	}
	files, notHeld, err := s.collect(ctx, req, m.Categories)
	if err != nil {
		return Package{}, err
	}
	m.NotHeld = append(m.NotHeld, notHeld...)
	for _, f := range files {
		m.Files = append(m.Files, f.PackageFile)
	}
	manifest, err := canonicalJSON(m)
	if err != nil {
		return Package{}, err
	}
	sig := ed25519.Sign(key, manifest)
	zipped, err := zipPackage(manifest, sig, files, now)
	if err != nil {
		return Package{}, err
	}
	info, err := s.blobs.Put(ctx, bytes.NewReader(zipped), int64(len(zipped)))
	if err != nil {
		return Package{}, &kurir.Error{Code: kurir.EUnavailable, Message: "The package could not be stored; try again.", Err: err}
	}
	return Package{RequestID: req.ID, Created: now, CreatedBy: by.ID, SHA256: info.SHA256.String(), Size: info.Size,
		Manifest: manifest, Signature: sig, summary: fmt.Sprintf("%s; %d files", joinCategories(m.Categories), len(m.Files))}, nil
}

// recordPackage records a package makePackage made, in legal_packages and
// the audit log, in tx, and sets its ID.
func (s *Service) recordPackage(ctx context.Context, tx *sqldb.Tx, req Request, by Staff, p *Package) error {
	if err := tx.QueryRowContext(ctx, `INSERT INTO legal_packages (request_id, created_at, created_by, sha256, size, manifest, signature)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, p.RequestID, sqldb.Micros(p.Created), p.CreatedBy, p.SHA256, p.Size,
		string(p.Manifest), base64.StdEncoding.EncodeToString(p.Signature)).Scan(&p.ID); err != nil {
		return fmt.Errorf("record package: %w", err)
	}
	return record(ctx, tx, by.ID, by.Role, "legal.package", "legal_request:"+req.Number,
		fmt.Sprintf("package %d: %s, %d bytes, sha256 %s", p.ID, p.summary, p.Size, p.SHA256))
}

// disclosable checks that req may be disclosed as it stands.
func disclosable(req Request) error {
	if req.State != Approved && req.State != Fulfilled {
		return &kurir.Error{Code: kurir.EConflict, Reason: "wrong_state",
			Message: fmt.Sprintf("Request %s is %s; only an approved request is disclosed.", req.Number, req.State)}
	}
	if req.Kind == Preservation || req.Kind == Removal {
		return &kurir.Error{Code: kurir.EInvalid, Reason: "not_a_disclosure",
			Message: fmt.Sprintf("Request %s is a %s request, which discloses nothing.", req.Number, req.Kind)}
	}
	if len(req.Approved) == 0 {
		return &kurir.Error{Code: kurir.EInvalid, Field: "categories", Reason: "nothing_approved",
			Message: fmt.Sprintf("Request %s has no data category approved.", req.Number)}
	}
	for _, c := range req.Approved {
		if !slices.Contains(Categories, c) {
			return kurir.Invalid("categories", "unknown_category", "%q is not a data category.", c)
		}
	}
	if slices.Contains(req.Approved, Content) && !slices.Contains(contentProcesses, req.Process) {
		return &kurir.Error{Code: kurir.EInvalid, Field: "categories", Reason: "content_needs_warrant",
			Message: "Content is disclosed only under a warrant, a court order or a mutual legal assistance request; this request rests on " +
				string(req.Process) + "."}
	}
	return nil
}

// collect gathers the data files of every target account, by category in
// the order of cats, then by target, and the lines of what is not held.
func (s *Service) collect(ctx context.Context, req Request, cats []Category) ([]zipEntry, []NotHeld, error) {
	var notHeld []NotHeld
	var users []account.User
	for _, t := range req.Targets {
		what := string(t.Kind) + ":" + t.Value
		switch {
		case t.User != 0:
			if slices.ContainsFunc(users, func(u account.User) bool { return u.ID == t.User }) {
				continue
			}
			u, held, err := s.heldAccount(ctx, t.User)
			if err != nil {
				return nil, nil, err
			}
			if !held {
				notHeld = append(notHeld, NotHeld{What: what,
					Why: fmt.Sprintf("Account %d does not exist, or was deleted and no legal hold kept its data.", t.User)})
				continue
			}
			users = append(users, u)
		case t.Chat != 0:
			notHeld = append(notHeld, NotHeld{What: what,
				Why: "This target names a chat or a message, not an account: a disclosure holds data of accounts only."})
		default:
			notHeld = append(notHeld, NotHeld{What: what, Why: "This target matched no account when the request was filed."})
		}
	}
	var files []zipEntry
	var media, edited bool // seen in the content disclosed
	for _, c := range cats {
		for _, u := range users {
			var v any
			switch c {
			case Subscriber:
				v = subscriberData{UserID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Email: u.Email, Phone: u.Phone,
					Country: u.Country, CreatedAt: u.CreatedAt, State: u.State}
			case Access:
				d, err := s.accessOf(ctx, u.ID, req.From, req.To)
				if err != nil {
					return nil, nil, err
				}
				v = d
			case Content:
				d, err := s.contentOf(ctx, u.ID, req.From, req.To)
				if err != nil {
					return nil, nil, err
				}
				for _, msg := range d.Messages {
					media = media || msg.Media != nil
					edited = edited || !msg.EditedAt.IsZero()
				}
				if len(d.Messages) == messaging.MaxSentBy {
					notHeld = append(notHeld, NotHeld{What: fmt.Sprintf("content/%d.json", u.ID),
						Why: fmt.Sprintf("Only the first %d messages of the date range are included; ask again for the period after the last one.", messaging.MaxSentBy)})
				}
				v = d
			}
			data, err := canonicalJSON(v)
			if err != nil {
				return nil, nil, err
			}
			sum := sha256.Sum256(data)
			files = append(files, zipEntry{data: data, PackageFile: PackageFile{Name: fmt.Sprintf("%s/%d.json", c, u.ID),
				SHA256: hex.EncodeToString(sum[:]), Size: int64(len(data)), Category: c, UserID: u.ID}})
		}
	}
	if media {
		notHeld = append(notHeld, NotHeld{What: "media_files",
			Why: "Photos, videos and files attached to messages are described in the content files (kind, name, size, media_id); their bytes are not part of this package."})
	}
	if edited {
		notHeld = append(notHeld, NotHeld{What: "earlier_versions",
			Why: "An edited message is held only as it reads now: earlier versions are not kept."})
	}
	return files, notHeld, nil
}

// heldAccount returns account id if kurir still holds its data: a live
// account, or a deleted one a legal hold kept from being wiped. UserByID
// hides deleted accounts, so a miss is looked up in the operators' list,
// which shows them; wiping takes an account's username, which every
// account has until then.
func (s *Service) heldAccount(ctx context.Context, id kurir.UserID) (account.User, bool, error) {
	u, err := s.acc.UserByID(ctx, id)
	if err == nil {
		return u, true, nil
	}
	if kurir.ErrorCode(err) != kurir.ENotFound {
		return account.User{}, false, err
	}
	us, err := s.acc.Users(ctx, id-1, 1)
	if err != nil {
		return account.User{}, false, err
	}
	if len(us) == 0 || us[0].ID != id || us[0].Username == "" {
		return account.User{}, false, nil
	}
	return us[0], true, nil
}

// accessOf lists the sessions still held of user that were in use in
// [from, to) (a zero bound is open), oldest first.
func (s *Service) accessOf(ctx context.Context, user kurir.UserID, from, to time.Time) (accessData, error) {
	sessions, err := s.acc.Sessions(ctx, user)
	if err != nil {
		return accessData{}, err
	}
	slices.SortFunc(sessions, func(a, b account.Session) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	d := accessData{UserID: user, Sessions: []accessSession{}}
	for _, ss := range sessions {
		if !to.IsZero() && !ss.CreatedAt.Before(to) || !from.IsZero() && ss.LastSeenAt.Before(from) {
			continue
		}
		d.Sessions = append(d.Sessions, accessSession{DeviceName: ss.DeviceName, IP: ss.IP, CreatedAt: ss.CreatedAt, LastSeenAt: ss.LastSeenAt})
	}
	return d, nil
}

// contentOf lists the messages user sent in [from, to).
func (s *Service) contentOf(ctx context.Context, user kurir.UserID, from, to time.Time) (contentData, error) {
	ms, err := s.msg.SentBy(ctx, user, from, to, messaging.MaxSentBy)
	if err != nil {
		return contentData{}, err
	}
	d := contentData{UserID: user, Messages: make([]contentRecord, 0, len(ms))}
	for _, m := range ms {
		r := contentRecord{Chat: m.ChatID, Seq: m.Seq, SentAt: m.CreatedAt, EditedAt: m.EditedAt, Text: m.Text, ReplyTo: m.ReplyTo,
			Media: m.Media, Deleted: m.Deleted, RemovedAt: m.Removed}
		if f := m.Forward; f != nil {
			r.Forward = &contentForward{Chat: f.ChatID, Seq: f.Seq, Sender: f.SenderID, At: f.At}
		}
		d.Messages = append(d.Messages, r)
	}
	return d, nil
}

// canonicalJSON is how every file of a package is written: indented
// encoding/json, ending with a newline.
func canonicalJSON(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode package file: %w", err)
	}
	return append(b, '\n'), nil
}

// zipPackage writes the package: manifest, signature, then the data files,
// every one stamped with the time the package was made.
func zipPackage(manifest, sig []byte, files []zipEntry, at time.Time) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name string, data []byte) error {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: at})
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	}
	if err := add(ManifestFile, manifest); err != nil {
		return nil, fmt.Errorf("zip package: %w", err)
	}
	if err := add(SignatureFile, []byte(base64.StdEncoding.EncodeToString(sig)+"\n")); err != nil {
		return nil, fmt.Errorf("zip package: %w", err)
	}
	for _, f := range files {
		if err := add(f.Name, f.data); err != nil {
			return nil, fmt.Errorf("zip package: %w", err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("zip package: %w", err)
	}
	return buf.Bytes(), nil
}

const packageColumns = `id, request_id, created_at, created_by, sha256, size, manifest, signature`

// latestPackage returns the newest package of a request, or ENotFound.
func latestPackage(ctx context.Context, q sqldb.Querier, request int64) (Package, error) {
	var p Package
	var created int64
	var manifest, sig string
	err := q.QueryRowContext(ctx, `SELECT `+packageColumns+` FROM legal_packages WHERE request_id = $1 ORDER BY id DESC LIMIT 1`, request).
		Scan(&p.ID, &p.RequestID, &created, &p.CreatedBy, &p.SHA256, &p.Size, &manifest, &sig)
	if errors.Is(err, sql.ErrNoRows) {
		return Package{}, kurir.Errorf(kurir.ENotFound, "Request %d has no disclosure package.", request)
	}
	if err != nil {
		return Package{}, fmt.Errorf("load package: %w", err)
	}
	p.Created, p.Manifest = sqldb.FromMicros(created), []byte(manifest)
	if p.Signature, err = base64.StdEncoding.DecodeString(sig); err != nil {
		return Package{}, fmt.Errorf("load package %d: signature: %w", p.ID, err)
	}
	return p, nil
}

// Download opens the newest disclosure package of a request of the
// officer's agency; a request of another agency is ENotFound, as one that
// does not exist. The download is recorded (who, which package, from
// which IP), on the request's timeline and in the audit log. The caller
// closes the reader.
func (s *Service) Download(ctx context.Context, sess OfficerSession, requestID int64, ip string) (Package, io.ReadCloser, error) {
	if err := RequireReady(sess); err != nil {
		return Package{}, nil, err
	}
	if a, err := netip.ParseAddr(ip); err == nil {
		ip = a.String()
	} else {
		ip = ""
	}
	var p Package
	err := s.db.ReadTx(ctx, func(tx *sqldb.Tx) error {
		r, err := s.ownRequest(ctx, tx, sess, requestID)
		if err != nil {
			return err
		}
		if r.State != Fulfilled {
			// A package is handed over only once its request is fulfilled
			// (and its users will be told): not while it is being built,
			// nor after a withdrawal.
			return &kurir.Error{Code: kurir.EConflict, Reason: "not_fulfilled",
				Message: fmt.Sprintf("Request %s is %s; its package is available once it is fulfilled.", r.Number, r.State)}
		}
		p, err = latestPackage(ctx, tx, requestID)
		return err
	})
	if err != nil {
		return Package{}, nil, err
	}
	h, err := blob.ParseHash(p.SHA256)
	if err != nil {
		return Package{}, nil, fmt.Errorf("package %d: %w", p.ID, err)
	}
	// Opened before the download is recorded, so that only a package
	// actually handed over is on record.
	obj, err := s.blobs.Open(ctx, h)
	if err != nil {
		return Package{}, nil, &kurir.Error{Code: kurir.EUnavailable, Message: "The package cannot be read just now; try again.",
			Err: fmt.Errorf("open package %d: %w", p.ID, err)}
	}
	now := s.now()
	err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		r, err := s.ownRequest(ctx, tx, sess, requestID)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO legal_downloads (package_id, officer_id, ip, at) VALUES ($1, $2, $3, $4)`,
			p.ID, sess.Officer.ID, ip, sqldb.Micros(now)); err != nil {
			return fmt.Errorf("record download: %w", err)
		}
		if err := event(ctx, tx, requestID, now, "officer", sess.Officer.ID, "downloaded", fmt.Sprintf("package %d", p.ID), false); err != nil {
			return err
		}
		return record(ctx, tx, 0, "", "legal.download", "legal_request:"+r.Number,
			fmt.Sprintf("officer %d downloaded package %d (sha256 %s) from %s", sess.Officer.ID, p.ID, p.SHA256, orUnknown(ip)))
	})
	if err != nil {
		obj.Close()
		return Package{}, nil, err
	}
	return p, obj, nil
}

func orUnknown(s string) string {
	if s == "" {
		return "an unknown address"
	}
	return s
}

// UserNotice tells a user that data of their account was disclosed to an
// authority.
type UserNotice struct {
	ID            int64
	RequestNumber string
	Categories    []Category
	Authority     string // who issued the legal process
	Country       string // where, ISO 3166-1 alpha-2
	At            time.Time
}

// gagged reports whether a non-disclosure order keeps req's targets from
// being told at now.
func gagged(req Request, now time.Time) bool {
	return req.NonDisclosure && (req.NonDisclosureEnd.IsZero() || now.Before(req.NonDisclosureEnd))
}

// noticeUsers tells every target account of req that its data was
// disclosed, unless a non-disclosure order still stands. Only a request
// with a package disclosed anything; telling a user twice is a no-op.
func (s *Service) noticeUsers(ctx context.Context, tx *sqldb.Tx, req Request, now time.Time) error {
	_, err := s.notify(ctx, tx, req, now)
	return err
}

// notify is noticeUsers, reporting how many users it told.
func (s *Service) notify(ctx context.Context, tx *sqldb.Tx, req Request, now time.Time) (int, error) {
	if gagged(req, now) || len(req.Approved) == 0 {
		return 0, nil
	}
	var packages int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM legal_packages WHERE request_id = $1`, req.ID).Scan(&packages); err != nil {
		return 0, fmt.Errorf("notify users: %w", err)
	}
	if packages == 0 {
		return 0, nil
	}
	authority := req.IssuingAuthority
	if authority == "" {
		ag, err := s.agency(ctx, tx, req.AgencyID)
		if err != nil {
			return 0, err
		}
		authority = ag.Name
	}
	var told []string
	for _, t := range req.Targets {
		if t.User == 0 {
			continue
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO legal_user_notices (user_id, request_id, categories, authority, country, created_at)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (user_id, request_id) DO NOTHING`,
			t.User, req.ID, joinCategories(req.Approved), authority, req.Jurisdiction, sqldb.Micros(now))
		if err != nil {
			return 0, fmt.Errorf("notify user %d: %w", t.User, err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			told = append(told, fmt.Sprintf("user %d", t.User))
		}
	}
	if len(told) == 0 {
		return 0, nil
	}
	if err := event(ctx, tx, req.ID, now, "system", 0, "users_notified",
		fmt.Sprintf("The users whose data was disclosed were told: %s.", strings.Join(told, ", ")), false); err != nil {
		return 0, err
	}
	if err := record(ctx, tx, 0, "", "legal.notice", "legal_request:"+req.Number, strings.Join(told, ", ")); err != nil {
		return 0, err
	}
	return len(told), nil
}

// NotifyDue tells users of the disclosures whose non-disclosure order has
// ended since they were fulfilled, and returns how many users it told. It
// is idempotent and safe to run on several nodes at once; RunNotifier
// calls it. A non-disclosure order the legal team lifts early ends when
// nondisclosure_until says, so set that to the time it was lifted.
func (s *Service) NotifyDue(ctx context.Context) (int, error) {
	now := s.now()
	told := 0
	var errs []error
	for after := int64(0); ; {
		var ids []int64
		rows, err := s.db.Read().QueryContext(ctx, `SELECT r.id FROM legal_requests r
			WHERE r.id > $1 AND r.state = 'fulfilled' AND r.nondisclosure = 1 AND r.nondisclosure_until <> 0 AND r.nondisclosure_until <= $2
			AND EXISTS (SELECT 1 FROM legal_packages p WHERE p.request_id = r.id)
			AND NOT EXISTS (SELECT 1 FROM legal_user_notices n WHERE n.request_id = r.id)
			ORDER BY r.id LIMIT 100`, after, sqldb.Micros(now))
		if err != nil {
			return told, fmt.Errorf("requests due for user notice: %w", err)
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return told, err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return told, err
		}
		if len(ids) == 0 {
			return told, errors.Join(errs...)
		}
		for _, id := range ids {
			var n int // set by the last run of the transaction, which may be retried
			err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
				req, err := s.request(ctx, tx, id)
				if err != nil || req.State != Fulfilled {
					return err
				}
				n, err = s.notify(ctx, tx, req, now)
				return err
			})
			if err != nil {
				errs = append(errs, fmt.Errorf("notify users of request %d: %w", id, err))
				continue
			}
			told += n
		}
		after = ids[len(ids)-1]
	}
}

// RunNotifier calls NotifyDue every interval until ctx is done, logging
// what it did.
func (s *Service) RunNotifier(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := s.NotifyDue(ctx); err != nil {
			s.log.Error("notify users of disclosures", "err", err)
		} else if n > 0 {
			s.log.Info("notified users of disclosures", "users", n)
		}
		if _, err := s.PurgeSessions(ctx); err != nil {
			s.log.Error("delete expired officer sessions", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// PurgeSessions deletes officers' sessions that have expired, and returns
// how many. RunNotifier calls it too.
func (s *Service) PurgeSessions(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM legal_sessions WHERE expires_at < $1`, sqldb.Micros(s.now()))
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return n, err
}

// NoticesFor returns what user has been told of disclosures of their
// data, newest first.
func (s *Service) NoticesFor(ctx context.Context, user kurir.UserID) ([]UserNotice, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT n.id, r.number, n.categories, n.authority, n.country, n.created_at
		FROM legal_user_notices n JOIN legal_requests r ON r.id = n.request_id
		WHERE n.user_id = $1 ORDER BY n.id DESC LIMIT 500`, user)
	if err != nil {
		return nil, fmt.Errorf("notices of user %d: %w", user, err)
	}
	defer rows.Close()
	var out []UserNotice
	for rows.Next() {
		var n UserNotice
		var cats string
		var at int64
		if err := rows.Scan(&n.ID, &n.RequestNumber, &cats, &n.Authority, &n.Country, &at); err != nil {
			return nil, err
		}
		n.Categories, n.At = splitCategories(cats), sqldb.FromMicros(at)
		out = append(out, n)
	}
	return out, rows.Err()
}
