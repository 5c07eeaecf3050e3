package legal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"kurir"
	"kurir/blob"
	"kurir/sqldb"
)

// The types of legal document a request may carry, known by their first
// bytes: a declared type is not believed.
var documentTypes = []struct {
	magic       []byte
	contentType string
	ext         string
}{
	{[]byte("%PDF-"), "application/pdf", ".pdf"},
	{[]byte("\x89PNG\r\n\x1a\n"), "image/png", ".png"},
	{[]byte("\xff\xd8\xff"), "image/jpeg", ".jpg"},
}

// Attach stores a legal document on a request of the officer's agency that
// is still open. Only PDF, PNG and JPEG files are accepted, by their
// content, up to Config.MaxAttachment bytes and Config.MaxAttachments per
// request. The server never opens, renders or converts them.
func (s *Service) Attach(ctx context.Context, sess OfficerSession, requestID int64, name string, r io.Reader) (Attachment, error) {
	if err := RequireReady(sess); err != nil {
		return Attachment{}, err
	}
	name = path.Base(strings.ReplaceAll(strings.TrimSpace(name), `\`, "/"))
	name, err := cleanText("name", "file name", name, 200, true)
	if err != nil || name == "." || name == "/" {
		return Attachment{}, kurir.Invalid("name", "bad_name", "Give the document a file name, such as order.pdf.")
	}
	req, err := s.ownRequest(ctx, s.db.Read(), sess, requestID)
	if err != nil {
		return Attachment{}, err
	}
	if !req.Open() {
		return Attachment{}, &kurir.Error{Code: kurir.EConflict, Reason: "closed", Message: fmt.Sprintf("Request %s is %s: no more documents.", req.Number, req.State)}
	}
	// Refused before the upload is stored, and checked again when it is
	// recorded, should two arrive at once.
	tooMany := &kurir.Error{Code: kurir.EConflict, Reason: "too_many_documents",
		Message: fmt.Sprintf("A request carries at most %d documents.", s.cfg.MaxAttachments)}
	if docs, err := attachmentCount(ctx, s.db.Read(), requestID); err != nil {
		return Attachment{}, err
	} else if docs >= s.cfg.MaxAttachments {
		return Attachment{}, tooMany
	}
	var head [8]byte
	n, err := io.ReadFull(r, head[:])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return Attachment{}, fmt.Errorf("read document: %w", err)
	}
	contentType := ""
	for _, t := range documentTypes {
		if bytes.HasPrefix(head[:n], t.magic) {
			contentType = t.contentType
		}
	}
	if contentType == "" {
		return Attachment{}, &kurir.Error{Code: kurir.EInvalid, Field: "file", Reason: "unsupported_document",
			Message: "Attach legal documents as PDF, PNG or JPEG files."}
	}
	info, err := s.blobs.Put(ctx, io.MultiReader(bytes.NewReader(head[:n]), r), s.cfg.MaxAttachment)
	if errors.Is(err, blob.ErrTooLarge) {
		return Attachment{}, &kurir.Error{Code: kurir.EInvalid, Field: "file", Reason: "too_large",
			Message: fmt.Sprintf("A document is at most %d MiB.", s.cfg.MaxAttachment>>20)}
	}
	if err != nil {
		return Attachment{}, &kurir.Error{Code: kurir.EUnavailable, Message: "The document could not be stored; try again.", Err: err}
	}
	a := Attachment{RequestID: requestID, Name: name, ContentType: contentType, Size: info.Size, SHA256: info.SHA256.String(), Uploaded: s.now()}
	err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		if docs, err := attachmentCount(ctx, tx, requestID); err != nil {
			return err
		} else if docs >= s.cfg.MaxAttachments {
			return tooMany
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO legal_attachments (request_id, name, content_type, size, sha256, uploaded_at)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, requestID, a.Name, a.ContentType, a.Size, a.SHA256, sqldb.Micros(a.Uploaded)).Scan(&a.ID); err != nil {
			return err
		}
		if err := event(ctx, tx, requestID, a.Uploaded, "officer", sess.Officer.ID, "document",
			fmt.Sprintf("%s (%d bytes)", a.Name, a.Size), false); err != nil {
			return err
		}
		return record(ctx, tx, 0, "", "legal.request.document", "legal_request:"+req.Number,
			fmt.Sprintf("officer %d attached %s, %s, %d bytes, sha256 %s", sess.Officer.ID, a.Name, a.ContentType, a.Size, a.SHA256))
	})
	if err != nil {
		return Attachment{}, err
	}
	return a, nil
}

// attachmentCount is how many documents a request carries.
func attachmentCount(ctx context.Context, q sqldb.Querier, request int64) (int, error) {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM legal_attachments WHERE request_id = $1`, request).Scan(&n); err != nil {
		return 0, fmt.Errorf("count documents: %w", err)
	}
	return n, nil
}

func attachments(ctx context.Context, q sqldb.Querier, request int64) ([]Attachment, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, request_id, name, content_type, size, sha256, uploaded_at FROM legal_attachments
		WHERE request_id = $1 ORDER BY id`, request)
	if err != nil {
		return nil, fmt.Errorf("documents: %w", err)
	}
	defer rows.Close()
	var out []Attachment
	for rows.Next() {
		var a Attachment
		var at int64
		if err := rows.Scan(&a.ID, &a.RequestID, &a.Name, &a.ContentType, &a.Size, &a.SHA256, &at); err != nil {
			return nil, err
		}
		a.Uploaded = sqldb.FromMicros(at)
		out = append(out, a)
	}
	return out, rows.Err()
}

// Document opens a legal document for the legal team; the read is audited.
// Nobody else, the officers who filed it included, reads it back.
func (s *Service) Document(ctx context.Context, by Staff, id int64) (Attachment, io.ReadCloser, error) {
	if err := mayReview(by); err != nil {
		return Attachment{}, nil, err
	}
	var a Attachment
	err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		var at int64
		err := tx.QueryRowContext(ctx, `SELECT id, request_id, name, content_type, size, sha256, uploaded_at FROM legal_attachments WHERE id = $1`, id).
			Scan(&a.ID, &a.RequestID, &a.Name, &a.ContentType, &a.Size, &a.SHA256, &at)
		if err != nil {
			return kurir.Errorf(kurir.ENotFound, "No document %d.", id)
		}
		a.Uploaded = sqldb.FromMicros(at)
		return record(ctx, tx, by.ID, by.Role, "legal.document.view", fmt.Sprintf("legal_document:%d", id), a.Name)
	})
	if err != nil {
		return Attachment{}, nil, err
	}
	h, err := blob.ParseHash(a.SHA256)
	if err != nil {
		return Attachment{}, nil, fmt.Errorf("document %d: %w", id, err)
	}
	obj, err := s.blobs.Open(ctx, h)
	if err != nil {
		return Attachment{}, nil, &kurir.Error{Code: kurir.EUnavailable, Message: "The document cannot be read right now.", Err: err}
	}
	return a, obj, nil
}
