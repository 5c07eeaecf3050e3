package franking

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"kurir"
)

// Limits on an encoded report, so that a decoder never holds more than a
// bounded amount of attacker-chosen data.
const (
	// MaxPlaintextSize is the largest reported plaintext, in bytes.
	MaxPlaintextSize = 256 << 10
	// MaxEnvelopeSize is the longest envelope ID, in bytes.
	MaxEnvelopeSize = 256
	// MaxReportSize is the longest encoded report, in bytes.
	MaxReportSize = 4*MaxPlaintextSize/3 + 4096
)

// reportVersion is the "v" of the JSON encoding.
const reportVersion = 1

// wireReport is the JSON form of a Report. Pointers tell a missing field from
// a zero one: every field is required.
type wireReport struct {
	V               *int    `json:"v"`
	Plaintext       *string `json:"plaintext"`
	Key             *string `json:"franking_key"`
	Commitment      *string `json:"commitment"`
	Tag             *string `json:"tag"`
	Sender          *int64  `json:"sender"`
	SenderDevice    *int64  `json:"sender_device"`
	Recipient       *int64  `json:"recipient"`
	RecipientDevice *int64  `json:"recipient_device"`
	AtMicros        *int64  `json:"at_us"`
	Envelope        *string `json:"envelope"`
}

// MarshalJSON encodes r as
//
//	{"v":1,"plaintext":B64,"franking_key":B64,"commitment":B64,"tag":B64,
//	 "sender":N,"sender_device":N,"recipient":N,"recipient_device":N,
//	 "at_us":N,"envelope":S}
//
// where B64 is standard base64 with padding and at_us is r.Context.At in
// microseconds since the Unix epoch.
func (r Report) MarshalJSON() ([]byte, error) {
	b64 := base64.StdEncoding.EncodeToString
	v := reportVersion
	pt, key, c, tag := b64(r.Plaintext), b64(r.Key[:]), b64(r.Commitment[:]), b64(r.Tag[:])
	at := r.Context.At.UnixMicro()
	ctx := r.Context
	return json.Marshal(wireReport{
		V: &v, Plaintext: &pt, Key: &key, Commitment: &c, Tag: &tag,
		Sender: &ctx.Sender, SenderDevice: &ctx.SenderDevice,
		Recipient: &ctx.Recipient, RecipientDevice: &ctx.RecipientDevice,
		AtMicros: &at, Envelope: &ctx.Envelope,
	})
}

// UnmarshalJSON decodes a report encoded by [Report.MarshalJSON]. It rejects
// unknown or missing fields, other versions, bad base64, byte strings of the
// wrong length and values over the size limits, with a *kurir.Error wrapping
// [ErrMalformed] (and [ErrBadTag] for a tag of the wrong length). On error r
// is unchanged.
func (r *Report) UnmarshalJSON(data []byte) error {
	got, err := DecodeReport(bytes.NewReader(data))
	if err != nil {
		return err
	}
	*r = got
	return nil
}

// DecodeReport reads one JSON report from rd, which must hold nothing else,
// and at most [MaxReportSize] bytes. It validates as [Report.UnmarshalJSON]
// does; a report that decodes may still fail [Stamper.Verify].
func DecodeReport(rd io.Reader) (Report, error) {
	data, err := io.ReadAll(io.LimitReader(rd, MaxReportSize+1))
	if err != nil {
		return Report{}, fmt.Errorf("franking: read report: %w", err)
	}
	if len(data) > MaxReportSize {
		return Report{}, malformed("", fmt.Sprintf("the report is larger than %d bytes", MaxReportSize), nil)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var w wireReport
	if err := dec.Decode(&w); err != nil {
		return Report{}, malformed("", "the report is not valid JSON of the expected shape", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Report{}, malformed("", "the report has data after its JSON object", nil)
	}
	return w.report()
}

func (w *wireReport) report() (Report, error) {
	var r Report
	required := []struct {
		name    string
		missing bool
	}{
		{"v", w.V == nil}, {"plaintext", w.Plaintext == nil}, {"franking_key", w.Key == nil},
		{"commitment", w.Commitment == nil}, {"tag", w.Tag == nil}, {"sender", w.Sender == nil},
		{"sender_device", w.SenderDevice == nil}, {"recipient", w.Recipient == nil},
		{"recipient_device", w.RecipientDevice == nil}, {"at_us", w.AtMicros == nil},
		{"envelope", w.Envelope == nil},
	}
	for _, f := range required {
		if f.missing {
			return Report{}, malformed(f.name, fmt.Sprintf("the report has no %q", f.name), nil)
		}
	}
	if *w.V != reportVersion {
		return Report{}, malformed("v", fmt.Sprintf("report version %d is not supported, want %d", *w.V, reportVersion), nil)
	}
	if base64.StdEncoding.DecodedLen(len(*w.Plaintext)) > MaxPlaintextSize+2 {
		return Report{}, malformed("plaintext", fmt.Sprintf("the plaintext is larger than %d bytes", MaxPlaintextSize), nil)
	}
	pt, err := base64.StdEncoding.Strict().DecodeString(*w.Plaintext)
	if err != nil {
		return Report{}, malformed("plaintext", "the plaintext is not standard base64", err)
	}
	if len(pt) > MaxPlaintextSize {
		return Report{}, malformed("plaintext", fmt.Sprintf("the plaintext is larger than %d bytes", MaxPlaintextSize), nil)
	}
	r.Plaintext = pt
	if err := decodeFixed(r.Key[:], "franking_key", *w.Key); err != nil {
		return Report{}, err
	}
	if err := decodeFixed(r.Commitment[:], "commitment", *w.Commitment); err != nil {
		return Report{}, err
	}
	if err := decodeFixed(r.Tag[:], "tag", *w.Tag); err != nil {
		return Report{}, err
	}
	if len(*w.Envelope) > MaxEnvelopeSize {
		return Report{}, malformed("envelope", fmt.Sprintf("the envelope ID is longer than %d bytes", MaxEnvelopeSize), nil)
	}
	r.Context = Context{
		Sender:          *w.Sender,
		SenderDevice:    *w.SenderDevice,
		Recipient:       *w.Recipient,
		RecipientDevice: *w.RecipientDevice,
		At:              time.UnixMicro(*w.AtMicros).UTC(),
		Envelope:        *w.Envelope,
	}
	return r, nil
}

// decodeFixed decodes base64 s into dst, which it must fill exactly.
func decodeFixed(dst []byte, field, s string) error {
	if base64.StdEncoding.EncodedLen(len(dst)) != len(s) {
		return malformedLen(field, len(dst))
	}
	var buf [TagSize + 2]byte // DecodedLen of the longest fixed field
	n, err := base64.StdEncoding.Strict().Decode(buf[:], []byte(s))
	if err != nil {
		return malformed(field, fmt.Sprintf("%s is not standard base64", field), err)
	}
	if n != len(dst) {
		return malformedLen(field, len(dst))
	}
	copy(dst, buf[:n])
	return nil
}

func malformedLen(field string, n int) error {
	e := malformed(field, fmt.Sprintf("%s must be %d bytes", field, n), nil)
	if field == "tag" {
		e.Reason = "franking_bad_tag"
		e.Err = fmt.Errorf("%w: %w", ErrMalformed, ErrBadTag)
	}
	return e
}

// malformed returns the error for a report that cannot be decoded; cause is
// for logs only.
func malformed(field, msg string, cause error) *kurir.Error {
	err := ErrMalformed
	if cause != nil {
		err = fmt.Errorf("%w: %w", ErrMalformed, cause)
	}
	return &kurir.Error{Code: kurir.EInvalid, Reason: "franking_malformed_report", Field: field, Message: msg, Err: err}
}
