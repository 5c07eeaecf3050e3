// Package media takes in photos, videos and files, stores them as
// content-addressed blobs, and serves them to the people allowed to see
// them.
//
// Every upload is staged to disk while its bytes are hashed (SHA-256 and
// MD5, as uploaded), its type is sniffed from the bytes, images are checked
// for decompression bombs before anything decodes them, get a thumbnail and
// lose the metadata that can carry a location, and every Scanner sees the
// object before anyone else can. Identical content is stored once; a
// takedown of a blob makes it unavailable in every chat at once.
package media

import (
	"context"
	"embed"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"time"

	"kurir"
	"kurir/blob"
	"kurir/ratelimit"
	"kurir/safety/pdq"
	"kurir/sqldb"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations is the media schema, for sqldb.DB.Migrate. It refers to
// account's users table, so it comes after account.Migrations.
var Migrations = sqldb.Embedded("media", migrationFiles, "migrations")

// ID identifies a media object.
type ID int64

// Kind is how a media object is shown.
type Kind string

// The kinds of media.
const (
	Photo Kind = "photo"
	Video Kind = "video"
	Audio Kind = "audio"
	File  Kind = "file"
)

// Status says whether a media object may be delivered.
type Status string

// The statuses. A held object waits for a moderator and cannot be attached.
const (
	Ready Status = "ready"
	Held  Status = "held"
)

// Media is a stored media object.
type Media struct {
	ID          ID
	OwnerID     kurir.UserID
	Kind        Kind
	ContentType string
	Name        string
	Size        int64
	Width       int
	Height      int
	// SHA256 addresses the content served; UploadSHA256 and UploadMD5 are of
	// the bytes as uploaded (they differ when metadata was stripped).
	SHA256       blob.Hash
	UploadSHA256 blob.Hash
	UploadMD5    string
	Thumbnail    bool
	Status       Status
	CreatedAt    time.Time
}

// Store is where blobs live: blob.FS, or any store that passes blobtest.
type Store interface {
	Put(ctx context.Context, r io.Reader, limit int64) (blob.Info, error)
	Open(ctx context.Context, h blob.Hash) (blob.Object, error)
	Stat(ctx context.Context, h blob.Hash) (int64, error)
	Delete(ctx context.Context, h blob.Hash) error
}

// Scanner sees every media object at ingest, before it is stored or anyone
// else can see it; safety scanning (hash banks, perceptual hashes) plugs in
// here. Scan returns its verdict; an error refuses the upload as
// unavailable, so that nothing goes unscanned.
type Scanner interface {
	Scan(ctx context.Context, c Candidate) (Verdict, error)
}

// Candidate is an upload under scan.
type Candidate struct {
	Owner       kurir.UserID
	Kind        Kind
	ContentType string
	Size        int64
	// Width and Height are an image's, checked against the limits; zero
	// for other files.
	Width, Height int
	UploadSHA256  blob.Hash
	UploadMD5     [16]byte
	// PDQ is a photo's PDQ hashes in its eight turns and mirror images
	// (indexed by pdq.Variant), from the one decode that also makes its
	// thumbnail; nil if it is not a photo or is too plain for its hash to
	// mean anything. A photo over Config.HashLaterPixels has none at upload:
	// it is hashed after the upload is answered and scanned again.
	PDQ []pdq.Hash
	// Stored is the object's ID when the scan comes after it was stored (a
	// large photo, scanned again with its PDQ hashes): a Block then takes
	// the content down everywhere instead of refusing the upload, a Hold
	// holds it, and the Verdict's Signal is called with Stored. Open then
	// returns the content as stored.
	Stored ID
	// Open returns the bytes as uploaded; the caller closes it.
	Open func() (io.ReadCloser, error)
}

// Action is what a Scanner decides.
type Action int

// The actions, from mildest to strictest; the strictest of all scanners wins.
const (
	Allow Action = iota
	Hold         // stored, but not deliverable until a moderator releases it
	Block        // refused: nothing is stored
)

// Verdict is a Scanner's decision with its reason, shown to the uploader
// for Block and recorded for Hold.
type Verdict struct {
	Action Action
	Reason string
	// Signal, if set, is called once the object is stored with its ID, to
	// record for review what was found (a hold, or a flag on an object let
	// through).
	Signal func(ctx context.Context, id ID)
}

// Visibility reports whether user may see a media object that is not
// theirs, because it is attached to a message they can read. messaging's
// Service implements it.
type Visibility interface {
	MediaVisible(ctx context.Context, user kurir.UserID, id int64) (bool, error)
}

// Config tunes the service; a zero field means its default.
type Config struct {
	// MaxSize is the largest upload in bytes (default 2 GiB).
	MaxSize int64
	// Quota is the most bytes of media one user may hold (default 20 GiB).
	Quota int64
	// MaxPixels bounds an image's width × height, checked before decoding
	// (default 50 megapixels); MaxSide bounds either side (default 20,000).
	MaxPixels int64
	MaxSide   int
	// ThumbnailSide is a thumbnail's longer side in pixels (default 320).
	ThumbnailSide int
	// HashLaterPixels is the size in pixels above which a photo is decoded
	// (for its thumbnail and PDQ hashes) after its upload is answered, by
	// RunHasher, rather than while the uploader waits (default 24
	// megapixels). Until then it has no thumbnail and only its exact hashes
	// have been scanned; the second scan can still take it down.
	HashLaterPixels int64
	// Decoders is how many images may be decoded at once, at upload and by
	// RunHasher together (default GOMAXPROCS): decoding takes memory in
	// proportion to the pixels (see imaging.Thumbnail).
	Decoders int
	// UploadTTL is how long a resumable upload may stay unfinished (default 24 h).
	UploadTTL time.Duration
	// Grace is how long an unreferenced blob or an unsent media object is
	// kept before collection (default 24 h).
	Grace time.Duration
	// UploadsPerUser limits how often one user may start an upload (default
	// 120 a minute, bursts of 60). A zero Every disables it.
	UploadsPerUser *ratelimit.Limit
	// Stored, if set, is told of every object stored, with a way to read
	// its content: for checks too slow to run before the upload is answered
	// (an external classifier), which can still take it down with Remove.
	// It must not block.
	Stored func(m Media, open func(ctx context.Context) (blob.Object, error))
}

func (c *Config) fill() {
	if c.MaxSize == 0 {
		c.MaxSize = 2 << 30
	}
	if c.Quota == 0 {
		c.Quota = 20 << 30
	}
	if c.MaxPixels == 0 {
		c.MaxPixels = 50_000_000
	}
	if c.MaxSide == 0 {
		c.MaxSide = 20_000
	}
	if c.ThumbnailSide == 0 {
		c.ThumbnailSide = 320
	}
	if c.HashLaterPixels == 0 {
		c.HashLaterPixels = 24_000_000
	}
	if c.Decoders == 0 {
		c.Decoders = runtime.GOMAXPROCS(0)
	}
	if c.UploadTTL == 0 {
		c.UploadTTL = 24 * time.Hour
	}
	if c.Grace == 0 {
		c.Grace = 24 * time.Hour
	}
	if c.UploadsPerUser == nil {
		c.UploadsPerUser = &ratelimit.Limit{Every: 500 * time.Millisecond, Burst: 60}
	}
}

// Service stores and serves media. It is safe for concurrent use.
type Service struct {
	db       *sqldb.DB
	blobs    Store
	visible  Visibility
	scanners []Scanner
	clock    kurir.Clock
	log      *slog.Logger
	cfg      Config
	staging  string // resumable uploads and staged files
	limiter  *ratelimit.Limiter
	uploads  uploadLocks
	decoding chan struct{} // a slot per image being decoded, at upload or by RunHasher
	hashing  chan struct{} // wakes RunHasher when a photo is left for it
	peak     atomic.Int64  // most images decoding at once (for tests)
	inflight atomic.Int64
}

// NewService returns the media service. Uploads are staged in stagingDir,
// which it creates; put it on the same file system as the blob store.
// visible decides who else may see an attached object.
func NewService(db *sqldb.DB, blobs Store, visible Visibility, stagingDir string, clock kurir.Clock, log *slog.Logger, cfg Config, scanners ...Scanner) (*Service, error) {
	cfg.fill()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(stagingDir, 0o750); err != nil {
		return nil, err
	}
	s := &Service{db: db, blobs: blobs, visible: visible, scanners: scanners, clock: clock, log: log, cfg: cfg,
		staging: filepath.Clean(stagingDir), decoding: make(chan struct{}, cfg.Decoders), hashing: make(chan struct{}, 1)}
	if err := s.removeStrayFiles(); err != nil {
		return nil, fmt.Errorf("clean staging directory: %w", err)
	}
	if cfg.UploadsPerUser.Every > 0 {
		s.limiter = ratelimit.New(*cfg.UploadsPerUser, clock, 100_000)
	}
	return s, nil
}
