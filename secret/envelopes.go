package secret

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"kurir"
	"kurir/secret/franking"
	"kurir/secret/protocol"
	"kurir/sqldb"
)

// Outgoing is one envelope a device sends.
type Outgoing struct {
	To         Device
	Body       []byte
	Commitment franking.Commitment
	// ClientID names the envelope among its sender device's sends, so that
	// a retry is recognised.
	ClientID string
}

// Sent is the relay's answer for one envelope.
type Sent struct {
	ID  string
	To  Device
	At  time.Time
	Tag franking.Tag
	// Stored is false for a retry answered with the first send's result.
	Stored bool
}

// Envelope is an envelope waiting for its recipient device.
type Envelope struct {
	ID         string
	From       Device
	Body       []byte
	Commitment franking.Commitment
	Tag        franking.Tag
	At         time.Time
}

// Sizes of an envelope body's parts (docs/secret-chats.md, "Payload and
// envelopes"): the kind byte, the initial header without and with a
// one-time prekey ID, and the ratchet message's header and AES-GCM tag.
const (
	kindPrekey        = 0x01
	kindSession       = 0x02
	initialHeader     = 102
	initialHeaderOPK  = 106
	initialHeaderFlag = 101 // offset of the one-time prekey flag in the initial header
	gcmTag            = 16
)

// CheckBody reports whether body is a well-formed envelope body of version
// 1: a prekey envelope (0x01, an initial header, a ratchet message) or a
// session envelope (0x02, a ratchet message), of at most MaxBodySize
// bytes. It checks the framing only; the ciphertext is the recipient's to
// open. It returns an EInvalid *kurir.Error saying what is wrong.
func CheckBody(body []byte) error {
	malformed := func(format string, args ...any) error {
		return &kurir.Error{Code: kurir.EInvalid, Reason: "secret_malformed_envelope", Message: fmt.Sprintf(format, args...)}
	}
	if len(body) > MaxBodySize {
		return &kurir.Error{Code: kurir.EInvalid, Reason: "secret_too_large",
			Message: fmt.Sprintf("The envelope body is %d bytes; the limit is %d.", len(body), MaxBodySize)}
	}
	if len(body) == 0 {
		return malformed("The envelope body is empty.")
	}
	var msg []byte
	switch body[0] {
	case kindPrekey:
		if len(body) < 1+initialHeader {
			return malformed("The prekey envelope is %d bytes, too short for its initial header.", len(body))
		}
		n := initialHeader
		if body[1+initialHeaderFlag] == 1 {
			n = initialHeaderOPK
		}
		if len(body) < 1+n {
			return malformed("The prekey envelope is %d bytes, too short for its initial header.", len(body))
		}
		var h protocol.InitialHeader
		if err := h.UnmarshalBinary(body[1 : 1+n]); err != nil {
			return malformed("The prekey envelope's initial header is malformed.")
		}
		msg = body[1+n:]
	case kindSession:
		msg = body[1:]
	default:
		return malformed("The envelope body starts with 0x%02x; want 0x01 (a prekey envelope) or 0x02 (a session envelope).", body[0])
	}
	if len(msg) < protocol.HeaderSize+gcmTag {
		return malformed("The envelope's ratchet message is %d bytes, shorter than a header and tag (%d): it is truncated.", len(msg), protocol.HeaderSize+gcmTag)
	}
	if len(msg) > protocol.HeaderSize+protocol.MaxPlaintextSize+gcmTag {
		return &kurir.Error{Code: kurir.EInvalid, Reason: "secret_too_large", Message: "The envelope's ratchet message is larger than the largest message."}
	}
	var h protocol.Header
	if err := h.UnmarshalBinary(msg[:protocol.HeaderSize]); err != nil {
		return malformed("The envelope's ratchet header is malformed.")
	}
	return nil
}

// checkClientID checks a send's client_id: 1 to MaxClientID bytes of
// UTF-8 text without control characters.
func checkClientID(field, id string) error {
	switch {
	case id == "":
		return kurir.Invalid(field, "required", "Every envelope needs a client_id, unique among this device's sends, so that a retry is recognised.")
	case len(id) > MaxClientID:
		return kurir.Invalid(field, "too_long", "The client_id is %d bytes; the limit is %d.", len(id), MaxClientID)
	case !utf8.ValidString(id) || strings.ContainsFunc(id, unicode.IsControl):
		return kurir.Invalid(field, "invalid_characters", "The client_id must be text without control characters.")
	}
	return nil
}

// Send stores envelopes from the device from for their recipient devices,
// each stamped with the server's franking tag over its commitment, sender,
// recipient, time and ID. It stores all or none. An envelope whose
// client_id the sending device used within IdempotencyWindow is not stored
// again: its answer is the first send's (Stored false), and a different
// recipient or commitment under the same client_id is EConflict. A
// recipient device without keys is ENotFound.
func (s *Service) Send(ctx context.Context, from Device, out []Outgoing) ([]Sent, error) {
	if len(out) == 0 {
		return nil, kurir.Invalid("envelopes", "required", "Send at least one envelope.")
	}
	if len(out) > MaxEnvelopesPerSend {
		return nil, kurir.Invalid("envelopes", "too_many", "Send at most %d envelopes at a time, not %d.", MaxEnvelopesPerSend, len(out))
	}
	ids := make(map[string]bool, len(out))
	for i, o := range out {
		field := "envelopes[" + strconv.Itoa(i) + "]"
		switch {
		case o.To.User <= 0:
			return nil, kurir.Invalid(field+".user_id", "invalid_id", "%d is not a user ID.", o.To.User)
		case o.To.ID <= 0:
			return nil, kurir.Invalid(field+".device_id", "invalid_id", "%d is not a device ID.", o.To.ID)
		case o.To == from:
			return nil, kurir.Invalid(field+".device_id", "secret_own_device", "A device does not send envelopes to itself.")
		}
		if err := CheckBody(o.Body); err != nil {
			var e *kurir.Error
			if errors.As(err, &e) {
				e.Field = field + ".body"
			}
			return nil, err
		}
		if err := checkClientID(field+".client_id", o.ClientID); err != nil {
			return nil, err
		}
		if ids[o.ClientID] {
			return nil, kurir.Invalid(field+".client_id", "duplicate_id", "client_id %q appears twice in one send.", o.ClientID)
		}
		ids[o.ClientID] = true
	}
	if s.sends != nil {
		if ok, wait := s.sends.AllowN("send:"+strconv.FormatInt(int64(from.User), 10), len(out)); !ok {
			return nil, &kurir.Error{Code: kurir.ERateLimited, Reason: "too_many_sends", RetryAfter: wait,
				Message: fmt.Sprintf("Too many secret messages sent just now; try again in %d seconds.", int((wait+time.Second-1)/time.Second))}
		}
	}
	var sent []Sent
	err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		var err error
		sent, err = s.send(ctx, tx, from, out)
		return err
	})
	if sqldb.IsUniqueViolation(err) {
		// A concurrent retry with the same client_id committed first (only
		// PostgreSQL runs sends at once): this attempt now finds its answer.
		err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			var err error
			sent, err = s.send(ctx, tx, from, out)
			return err
		})
	}
	if err != nil {
		return nil, err
	}
	return sent, nil
}

// send is one attempt of Send, inside tx.
func (s *Service) send(ctx context.Context, tx *sqldb.Tx, from Device, out []Outgoing) ([]Sent, error) {
	if err := lockSession(ctx, tx, from); err != nil {
		return nil, err
	}
	at := s.now()
	atUS := sqldb.Micros(at)
	sent := make([]Sent, 0, len(out))
	for i, o := range out {
		field := "envelopes[" + strconv.Itoa(i) + "]"
		prev, found, err := findSend(ctx, tx, from.ID, o.ClientID)
		if err != nil {
			return nil, err
		}
		if found {
			if prev.To != o.To || prev.commitment != o.Commitment {
				return nil, &kurir.Error{Code: kurir.EConflict, Reason: "secret_client_id_reused", Field: field + ".client_id",
					Message: fmt.Sprintf("client_id %q was used for another envelope from this device; use a new one for each envelope.", o.ClientID)}
			}
			sent = append(sent, prev.Sent)
			continue
		}
		var owner int64
		err = tx.QueryRowContext(ctx, `SELECT user_id FROM secret_devices WHERE device_id = $1`+lockFor(tx, "FOR KEY SHARE"), o.To.ID).Scan(&owner)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && kurir.UserID(owner) != o.To.User) {
			return nil, errNoDevice(field+".device_id", o.To)
		}
		if err != nil {
			return nil, fmt.Errorf("find device %d: %w", o.To.ID, err)
		}
		if err := s.roomFor(ctx, tx, from, o.To, field); err != nil {
			return nil, err
		}
		id := rand.Text()
		tag := s.stamper.Stamp(o.Commitment, franking.Context{
			Sender: int64(from.User), SenderDevice: from.ID, Recipient: int64(o.To.User), RecipientDevice: o.To.ID,
			At: at, Envelope: id,
		})
		if _, err := tx.ExecContext(ctx, `INSERT INTO secret_envelopes (id, recipient_device, recipient, sender, sender_device, body, commitment, tag, at_us)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			id, o.To.ID, o.To.User, from.User, from.ID, o.Body, o.Commitment[:], tag[:], atUS); err != nil {
			return nil, fmt.Errorf("store envelope: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO secret_sends (sender_device, client_id, envelope_id, recipient, recipient_device, commitment, tag, at_us)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			from.ID, o.ClientID, id, o.To.User, o.To.ID, o.Commitment[:], tag[:], atUS); err != nil {
			return nil, fmt.Errorf("record send: %w", err)
		}
		sent = append(sent, Sent{ID: id, To: o.To, At: at, Tag: tag, Stored: true})
	}
	return sent, nil
}

// roomFor refuses an envelope for a device that already holds as many
// waiting envelopes as it may, from this sender or from everyone. The
// counts stop at the limits, so a full queue costs no more to refuse than
// its limit.
func (s *Service) roomFor(ctx context.Context, tx *sqldb.Tx, from, to Device, field string) error {
	var fromSender, all int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM secret_envelopes WHERE recipient_device = $1 AND sender = $2 LIMIT $3) q`,
		to.ID, from.User, s.maxFromSender).Scan(&fromSender); err != nil {
		return fmt.Errorf("count waiting envelopes: %w", err)
	}
	if fromSender < s.maxFromSender {
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM secret_envelopes WHERE recipient_device = $1 LIMIT $2) q`,
			to.ID, s.maxPerDevice).Scan(&all); err != nil {
			return fmt.Errorf("count waiting envelopes: %w", err)
		}
	}
	if fromSender >= s.maxFromSender || all >= s.maxPerDevice {
		return &kurir.Error{Code: kurir.ERateLimited, Reason: "secret_queue_full", Field: field + ".device_id", RetryAfter: time.Hour,
			Message: "That device has too many secret messages waiting that it has not fetched yet; try again once it has been online."}
	}
	return nil
}

// priorSend is a send recorded under a client_id.
type priorSend struct {
	Sent
	commitment franking.Commitment
}

func findSend(ctx context.Context, q sqldb.Querier, device int64, clientID string) (priorSend, bool, error) {
	var p priorSend
	var user, at int64
	var commitment, tag []byte
	err := q.QueryRowContext(ctx, `SELECT envelope_id, recipient, recipient_device, commitment, tag, at_us
		FROM secret_sends WHERE sender_device = $1 AND client_id = $2`, device, clientID).
		Scan(&p.ID, &user, &p.To.ID, &commitment, &tag, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return p, false, nil
	}
	if err != nil {
		return p, false, fmt.Errorf("find send: %w", err)
	}
	if len(commitment) != franking.CommitmentSize || len(tag) != franking.TagSize {
		return p, false, fmt.Errorf("send %s: stored commitment or tag has the wrong length", p.ID)
	}
	p.To.User, p.At = kurir.UserID(user), sqldb.FromMicros(at)
	copy(p.commitment[:], commitment)
	copy(p.Tag[:], tag)
	return p, true, nil
}

// pendingQuery reads a device's envelopes in the order they were stored,
// walking the device's index (on PostgreSQL, its part of the primary key).
// The unary plus keeps the time index out of the plan: PostgreSQL would
// otherwise combine both indexes and sort every envelope of the device to
// return the first hundred.
const pendingQuery = `SELECT id, sender, sender_device, body, commitment, tag, at_us FROM secret_envelopes
	WHERE recipient_device = $1 AND recipient = $2 AND +at_us > $3 ORDER BY seq LIMIT $4`

// Pending returns dev's envelopes that wait for acknowledgement, oldest
// first: at most limit (DefaultFetch for 0, at most MaxFetch), and fewer
// when their bodies pass a few megabytes, though always one if any wait.
// Envelopes older than the TTL are not returned even before the janitor
// deletes them.
func (s *Service) Pending(ctx context.Context, dev Device, limit int) ([]Envelope, error) {
	switch {
	case limit < 0:
		return nil, kurir.Invalid("limit", "invalid_number", "The limit must be 0 or more.")
	case limit == 0:
		limit = DefaultFetch
	case limit > MaxFetch:
		limit = MaxFetch
	}
	cutoff := sqldb.Micros(s.now().Add(-s.ttl))
	rows, err := s.db.Read().QueryContext(ctx, pendingQuery, dev.ID, dev.User, cutoff, limit)
	if err != nil {
		return nil, fmt.Errorf("pending envelopes: %w", err)
	}
	defer rows.Close()
	out := []Envelope{}
	size := 0
	for rows.Next() {
		var e Envelope
		var sender, at int64
		var commitment, tag []byte
		if err := rows.Scan(&e.ID, &sender, &e.From.ID, &e.Body, &commitment, &tag, &at); err != nil {
			return nil, err
		}
		if len(commitment) != franking.CommitmentSize || len(tag) != franking.TagSize {
			return nil, fmt.Errorf("envelope %s: stored commitment or tag has the wrong length", e.ID)
		}
		e.From.User, e.At = kurir.UserID(sender), sqldb.FromMicros(at)
		copy(e.Commitment[:], commitment)
		copy(e.Tag[:], tag)
		if size += len(e.Body); size > maxFetchBytes && len(out) > 0 {
			break
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// ackChunk is how many IDs one DELETE names. Acknowledgements are deleted
// in fixed-size groups, padded with an ID no envelope has, so that the
// statement's text is always the same and is prepared once.
const ackChunk = 50

// ackQuery is DELETE ... WHERE id IN ($2, ..., $51) AND +recipient_device = $1.
// The unary plus keeps SQLite's planner, which has no statistics, from
// preferring the device's index, which would visit every envelope waiting
// for the device on each acknowledgement, to the 50 lookups by ID.
var ackQuery = func() string {
	var b strings.Builder
	b.WriteString(`DELETE FROM secret_envelopes WHERE +recipient_device = $1 AND id IN (`)
	for i := range ackChunk {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("$" + strconv.Itoa(i+2))
	}
	b.WriteString(")")
	return b.String()
}()

// Ack deletes dev's envelopes named by ids, once it has them: IDs of
// envelopes that are not dev's, or no longer there, are ignored. It
// returns how many it deleted.
func (s *Service) Ack(ctx context.Context, dev Device, ids []string) (int64, error) {
	if len(ids) > MaxAck {
		return 0, kurir.Invalid("ids", "too_many", "Acknowledge at most %d envelopes at a time, not %d.", MaxAck, len(ids))
	}
	for i, id := range ids {
		if id == "" || len(id) > franking.MaxEnvelopeSize {
			return 0, kurir.Invalid("ids["+strconv.Itoa(i)+"]", "invalid_id", "%q is not an envelope ID.", id)
		}
	}
	if len(ids) == 0 {
		return 0, nil
	}
	var n int64
	err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		n = 0
		args := make([]any, 1+ackChunk)
		args[0] = dev.ID
		for start := 0; start < len(ids); start += ackChunk {
			chunk := ids[start:min(start+ackChunk, len(ids))]
			for i := range ackChunk {
				args[1+i] = "" // matches no envelope
				if i < len(chunk) {
					args[1+i] = chunk[i]
				}
			}
			res, err := tx.ExecContext(ctx, ackQuery, args...)
			if err != nil {
				return fmt.Errorf("acknowledge envelopes: %w", err)
			}
			m, _ := res.RowsAffected()
			n += m
		}
		return nil
	})
	return n, err
}

// expireBatch bounds one deletion of the janitor, so that the SQLite
// writer is never held long.
const expireBatch = 1000

// Expire deletes envelopes older than the TTL, acknowledged or not, and
// send records older than IdempotencyWindow. It returns how many envelopes
// it deleted.
func (s *Service) Expire(ctx context.Context) (int64, error) {
	now := s.now()
	envelopes, err := s.deleteBatches(ctx, `DELETE FROM secret_envelopes WHERE id IN
		(SELECT id FROM secret_envelopes WHERE at_us <= $1 ORDER BY at_us LIMIT $2)`, sqldb.Micros(now.Add(-s.ttl)))
	if err != nil {
		return envelopes, fmt.Errorf("expire envelopes: %w", err)
	}
	if _, err := s.deleteBatches(ctx, `DELETE FROM secret_sends WHERE (sender_device, client_id) IN
		(SELECT sender_device, client_id FROM secret_sends WHERE at_us <= $1 ORDER BY at_us LIMIT $2)`,
		sqldb.Micros(now.Add(-IdempotencyWindow))); err != nil {
		return envelopes, fmt.Errorf("forget sends: %w", err)
	}
	return envelopes, nil
}

// deleteBatches runs query, which deletes at most $2 rows older than $1,
// until it deletes fewer, and returns how many it deleted.
func (s *Service) deleteBatches(ctx context.Context, query string, cutoff int64) (int64, error) {
	var total int64
	for {
		var n int64
		err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			res, err := tx.ExecContext(ctx, query, cutoff, expireBatch)
			if err != nil {
				return err
			}
			n, _ = res.RowsAffected()
			return nil
		})
		total += n
		if err != nil || n < expireBatch || ctx.Err() != nil {
			return total, err
		}
	}
}

// RunJanitor expires envelopes and send records every interval until ctx
// ends. It is safe to run on every node at once.
func (s *Service) RunJanitor(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := s.Expire(ctx); err != nil {
			if ctx.Err() == nil {
				s.log.Error("secret-chat janitor", "err", err)
			}
		} else if n > 0 {
			s.log.Info("deleted unacknowledged secret-chat envelopes past their TTL", "envelopes", n, "ttl", s.ttl)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
