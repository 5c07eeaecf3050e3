package hashbank

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"kurir/media"
	"kurir/media/imaging"
	"kurir/safety/pdq"
)

// minPDQQuality is the PDQ quality below which a photo's hash says too
// little to match on (flat or tiny images); Meta's reference suggests
// ignoring such hashes.
const minPDQQuality = pdq.MinQuality

// MediaScanner checks every upload against the banks before it is stored
// (it is a media.Scanner): the bytes as uploaded by SHA-256 and MD5, and a
// photo by PDQ in all eight of its turns and mirror images. The strictest
// matching bank decides: block refuses the upload, hold keeps it for
// review; a flag lets it through and is logged.
type MediaScanner struct {
	Banks *Service
	Log   *slog.Logger
}

// Scan implements media.Scanner.
func (m MediaScanner) Scan(ctx context.Context, c media.Candidate) (media.Verdict, error) {
	sha, md := [32]byte(c.UploadSHA256), c.UploadMD5
	var hashes []PDQ
	if c.Kind == media.Photo || strings.HasPrefix(c.ContentType, "image/") && c.Width > 0 {
		h, err := photoHashes(c)
		if err != nil {
			return media.Verdict{}, err
		}
		hashes = h
	}
	matches := m.Banks.Lookup(&sha, &md, hashes)
	if len(matches) == 0 {
		return media.Verdict{Action: media.Allow}, nil
	}
	v := media.Verdict{Action: media.Allow}
	for _, match := range matches {
		a := media.Allow
		switch match.Action {
		case Block:
			a = media.Block
		case Hold:
			a = media.Hold
		}
		if m.Log != nil {
			m.Log.Warn("upload matches a hash bank", "owner", c.Owner, "bank", match.Entry.Bank, "entry", match.Entry.ID,
				"signal", match.Entry.Signal, "distance", match.Distance, "action", match.Action)
		}
		if a > v.Action || v.Reason == "" {
			v.Action = max(v.Action, a)
			v.Reason = "it matches content known to be prohibited (" + strings.ToLower(strings.ReplaceAll(match.Entry.Bank, "_", " ")) + ")."
		}
	}
	return v, nil
}

// photoHashes returns the PDQ hashes of a photo's eight orientations, or
// none if its hash would be too weak to match on.
func photoHashes(c media.Candidate) ([]PDQ, error) {
	rc, err := c.Open()
	if err != nil {
		return nil, fmt.Errorf("open upload for hashing: %w", err)
	}
	defer rc.Close()
	ra, ok := rc.(io.ReaderAt)
	if !ok {
		return nil, fmt.Errorf("open upload for hashing: %T cannot be read at an offset", rc)
	}
	img, err := pdq.Decode(ra, c.Size, imaging.Limits{})
	if err != nil {
		return nil, nil // media checks images itself; an undecodable one is no match
	}
	all, quality, err := pdq.Dihedral(img)
	if err != nil || quality < minPDQQuality {
		return nil, nil
	}
	return all[:], nil
}
