// Package mail sends plain-text e-mail: the verification codes and notices of
// the law-enforcement portal. A Sender is either an SMTPSender, which submits
// to a mail server, or a LogSender, the development sink that writes each
// message to the log and keeps the last ones in memory. Parse makes either
// from one configuration string.
package mail

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"kurir"
)

// Message is one plain-text e-mail to one recipient. All fields are UTF-8.
type Message struct {
	// To is the recipient, "officer@police.example" or
	// "Jane Doe <officer@police.example>".
	To string
	// Subject is one line of at most maxSubject bytes.
	Subject string
	// Body is plain text of at most maxBody bytes; lines end in "\n" or
	// "\r\n", and the last line gets one if it has none.
	Body string
}

// Sender sends messages. Implementations are safe for concurrent use.
type Sender interface {
	// Send delivers m, or returns an error: a *kurir.Error with code
	// kurir.EInvalid when m itself is at fault (a bad address, a line break in
	// a header), with kurir.EUnavailable when it could not be delivered now.
	Send(ctx context.Context, m Message) error
}

// Limits on a Message, so that a caller's bug cannot send megabytes or fold
// a header past the 998 characters RFC 5322 allows on a line.
const (
	maxTo      = 320 // 64 for the local part, @, 255 for the domain
	maxSubject = 250
	maxBody    = 1 << 20
)

// check validates m and returns its parsed recipient. Nothing is sent for a
// message that fails it.
func (m Message) check() (*mail.Address, error) {
	// Line breaks first, with their own reason: in a header they would let
	// the rest of the value be read as further headers (a Bcc, a second body).
	if strings.ContainsAny(m.To, "\r\n") {
		return nil, kurir.Invalid("to", "header_injection", "The e-mail address has a line break in it.")
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		return nil, kurir.Invalid("subject", "header_injection", "The subject has a line break in it.")
	}
	if m.To == "" {
		return nil, kurir.Invalid("to", "missing", "The e-mail address is missing.")
	}
	if len(m.To) > maxTo {
		return nil, kurir.Invalid("to", "too_long", "The e-mail address is longer than %d characters.", maxTo)
	}
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		e := kurir.Invalid("to", "bad_address", "This is not an e-mail address; write it as name@example.org.")
		e.Err = err
		return nil, e
	}
	if len(m.Subject) > maxSubject {
		return nil, kurir.Invalid("subject", "too_long", "The subject is longer than %d bytes.", maxSubject)
	}
	if !utf8.ValidString(m.Subject) {
		return nil, kurir.Invalid("subject", "bad_utf8", "The subject is not valid UTF-8.")
	}
	if len(m.Body) > maxBody {
		return nil, kurir.Invalid("body", "too_long", "The body is larger than %d bytes.", maxBody)
	}
	if !utf8.ValidString(m.Body) {
		return nil, kurir.Invalid("body", "bad_utf8", "The body is not valid UTF-8.")
	}
	return to, nil
}

// DefaultTimeout bounds a whole SMTP exchange whose SMTPSender has no Timeout.
const DefaultTimeout = 30 * time.Second

// Parse returns the Sender that a configuration string names:
//
//	log:
//	    a *LogSender with a nil Log, which logs to slog.Default()
//	smtp://USER:PASSWORD@HOST:PORT?from=ADDRESS[&timeout=DURATION]
//	    an SMTPSender; USER:PASSWORD@ may be left out for a relay that needs
//	    no login, and characters such as @ : / ? # % in them are
//	    percent-encoded. ADDRESS may carry a name ("Kurir <kurir@example.org>",
//	    percent-encoded). DURATION is in time.ParseDuration form ("10s").
//
// Its errors say what is wrong and never contain the password.
func Parse(rawURL string) (Sender, error) {
	if rawURL == "" {
		return nil, errors.New("mail: no sender configured; use log: in development or smtp://USER:PASSWORD@HOST:PORT?from=ADDRESS")
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Parse quotes the whole URL in its error, password included, and
		// a badly escaped password can land in any part of it: say nothing of
		// what was written.
		return nil, errors.New("mail: the sender setting is not a valid URL; its form is smtp://USER:PASSWORD@HOST:PORT?from=ADDRESS, with any @ : / ? # % in the user name or password percent-encoded (%40 %3A %2F %3F %23 %25)")
	}
	switch u.Scheme {
	case "log":
		if u.Opaque != "" || u.Host != "" || u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" {
			return nil, errors.New("mail: the log: sender takes no settings; write just log:")
		}
		return &LogSender{}, nil
	case "smtp":
		return parseSMTP(u)
	case "smtps":
		return nil, errors.New("mail: smtps:// (TLS from the first byte) is not supported; use smtp://HOST:587, which upgrades to TLS with STARTTLS")
	case "":
		return nil, errors.New("mail: the sender setting has no scheme; use log: or smtp://USER:PASSWORD@HOST:PORT?from=ADDRESS")
	default:
		return nil, fmt.Errorf("mail: unknown sender scheme %q; use log: or smtp://", u.Scheme)
	}
}

// parseSMTP reads an smtp:// URL. Its errors name the part at fault but quote
// nothing from the URL: a password with an unescaped / ? # or & in it is
// parsed into the path, the query or the fragment, and would show up there.
func parseSMTP(u *url.URL) (SMTPSender, error) {
	var s SMTPSender
	if u.Opaque != "" {
		return s, errors.New("mail: the smtp sender needs two slashes: smtp://HOST:PORT?from=ADDRESS")
	}
	if u.Hostname() == "" {
		return s, errors.New("mail: the smtp URL has no host: smtp://HOST:PORT?from=ADDRESS")
	}
	if u.Port() == "" {
		return s, errors.New("mail: the smtp URL has no port; write smtp://HOST:587 for submission with STARTTLS, or the port your relay listens on")
	}
	if p, err := strconv.Atoi(u.Port()); err != nil || p < 1 || p > 65535 {
		return s, errors.New("mail: the port in the smtp URL is not a number from 1 to 65535")
	}
	if u.Path != "" && u.Path != "/" {
		return s, errors.New("mail: the smtp URL has a path after the host; settings go in the query (?from=ADDRESS), and a / in the password is written %2F")
	}
	if u.Fragment != "" {
		return s, errors.New("mail: the smtp URL has a # fragment; a # in the password is written %23")
	}
	if u.User != nil {
		s.Username = u.User.Username()
		s.Password, _ = u.User.Password()
		switch {
		case s.Username == "" && s.Password != "":
			return s, errors.New("mail: the smtp URL has a password but no user name")
		case s.Username != "" && s.Password == "":
			return s, errors.New("mail: the smtp URL has a user name but no password; write smtp://USER:PASSWORD@HOST:PORT")
		}
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return s, errors.New("mail: the query of the smtp URL is not valid; percent-encode the from address (< is %3C, > is %3E, a space is %20)")
	}
	for k, v := range q {
		switch k {
		case "from", "timeout":
			if len(v) != 1 {
				return s, fmt.Errorf("mail: the smtp URL has %d %s= settings; give one", len(v), k)
			}
		default:
			return s, errors.New("mail: the smtp URL has a setting other than from and timeout: a misspelt name, or a ? or & in the password (write them %3F and %26)")
		}
	}
	from := q.Get("from")
	if from == "" {
		return s, errors.New("mail: the smtp URL has no from address: add ?from=kurir@example.org")
	}
	if _, err := mail.ParseAddress(from); err != nil {
		return s, errors.New("mail: the from address in the smtp URL is not an e-mail address; write from=kurir@example.org or from=Kurir%20%3Ckurir@example.org%3E")
	}
	if t := q.Get("timeout"); t != "" {
		d, err := time.ParseDuration(t)
		if err != nil || d <= 0 {
			return s, errors.New("mail: the timeout in the smtp URL is not a positive duration such as timeout=10s")
		}
		s.Timeout = d
	}
	s.Addr = u.Host
	s.From = from
	return s, nil
}

// isLoopback reports whether a is a TCP address on this machine, where a
// password cannot be overheard on the wire.
func isLoopback(a net.Addr) bool {
	t, ok := a.(*net.TCPAddr)
	return ok && t.IP.IsLoopback()
}
