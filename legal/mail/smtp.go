package mail

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"os"
	"slices"
	"strings"
	"time"

	"kurir"
)

// SMTPSender submits messages to a mail server with SMTP (RFC 5321), one
// connection per message.
//
// It upgrades the connection with STARTTLS whenever the server offers it, and
// then never falls back to plain text if the upgrade fails. It logs in with
// AUTH PLAIN when Username is set, and refuses to do so over a connection
// that is neither TLS nor to a loopback address. Messages are plain text in
// UTF-8, quoted-printable, with a Q-encoded subject.
//
// An SMTPSender holds only configuration; it is safe for concurrent use.
type SMTPSender struct {
	// Addr is the server's HOST:PORT, usually port 587 (submission).
	Addr string
	// From is the sender, "kurir@example.org" or "Kurir <kurir@example.org>".
	From string
	// Username and Password log in with AUTH PLAIN; leave Username empty for
	// a relay that needs no login.
	Username, Password string
	// Timeout bounds the whole exchange, from dialling to QUIT, together with
	// the deadline of the context passed to Send; 0 means DefaultTimeout.
	Timeout time.Duration
	// TLSConfig is used for STARTTLS; nil means the system's roots and the
	// host of Addr as the server name. Set it for a relay whose certificate a
	// private CA signed.
	TLSConfig *tls.Config
}

// Send submits m. It returns a *kurir.Error: EInvalid when m is at fault or
// the server refused the recipient, EUnavailable when the server could not be
// reached, refused to take the message or did not answer in time (its Err
// then wraps ctx.Err()), EInternal when the sender itself is misconfigured.
func (s SMTPSender) Send(ctx context.Context, m Message) error {
	to, err := m.check()
	if err != nil {
		return err
	}
	from, err := mail.ParseAddress(s.From)
	if err != nil {
		return s.misconfigured(fmt.Errorf("from address: %w", err))
	}
	host, _, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return s.misconfigured(fmt.Errorf("server address: %w", err))
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return s.unavailable(ctx, "connect", err)
	}
	defer conn.Close()
	return s.exchange(ctx, conn, host, from, to, m)
}

// exchange speaks SMTP over conn, a connection to host, until the message is
// accepted, and closes conn. It holds to ctx's deadline and gives up as soon
// as ctx is done.
func (s SMTPSender) exchange(ctx context.Context, conn net.Conn, host string, from, to *mail.Address, m Message) error {
	// net/smtp knows nothing of contexts: the deadline goes on the connection,
	// and cancellation moves it into the past, which fails any read or write
	// in progress at once.
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return s.unavailable(ctx, "greeting", err)
	}
	defer c.Close()
	if err := c.Hello("localhost"); err != nil {
		return s.unavailable(ctx, "EHLO", err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		cfg := &tls.Config{}
		if s.TLSConfig != nil {
			cfg = s.TLSConfig.Clone()
		}
		if cfg.ServerName == "" {
			cfg.ServerName = host
		}
		if cfg.MinVersion == 0 {
			cfg.MinVersion = tls.VersionTLS12
		}
		if err := c.StartTLS(cfg); err != nil {
			return s.unavailable(ctx, "STARTTLS", err)
		}
	}
	if s.Username != "" {
		if _, secure := c.TLSConnectionState(); !secure && !isLoopback(conn.RemoteAddr()) {
			return s.unavailable(ctx, "AUTH", errors.New("the server does not offer STARTTLS, and the password is sent only over TLS or to a loopback address"))
		}
		ok, mechs := c.Extension("AUTH")
		if !ok || !slices.Contains(strings.Fields(strings.ToUpper(mechs)), "PLAIN") {
			return s.unavailable(ctx, "AUTH", fmt.Errorf("the server does not offer AUTH PLAIN (it offers %q)", mechs))
		}
		if err := c.Auth(plainAuth{s.Username, s.Password}); err != nil {
			return s.unavailable(ctx, "AUTH", err)
		}
	}
	if !isASCII(from.Address) || !isASCII(to.Address) {
		if ok, _ := c.Extension("SMTPUTF8"); !ok {
			return kurir.Invalid("to", "unsupported_address", "The mail server cannot deliver to an address with characters other than ASCII.")
		}
	}
	if err := c.Mail(from.Address); err != nil {
		return s.unavailable(ctx, "MAIL FROM", err)
	}
	if err := c.Rcpt(to.Address); err != nil {
		var reply *textproto.Error
		if errors.As(err, &reply) && reply.Code/100 == 5 {
			e := kurir.Invalid("to", "refused_address", "The mail server refused this e-mail address.")
			e.Err = fmt.Errorf("mail: smtp %s: RCPT TO: %w", s.Addr, err)
			return e
		}
		return s.unavailable(ctx, "RCPT TO", err)
	}
	w, err := c.Data()
	if err != nil {
		return s.unavailable(ctx, "DATA", err)
	}
	if err := write(w, from, to, m, time.Now()); err != nil {
		return s.unavailable(ctx, "DATA", err)
	}
	// Closing the data writer sends the final "." and reads the server's
	// verdict on the message.
	if err := w.Close(); err != nil {
		return s.unavailable(ctx, "DATA", err)
	}
	// The message is accepted; a failed QUIT changes nothing.
	_ = c.Quit()
	return nil
}

// write writes m as an RFC 5322 message with MIME headers. w converts "\n"
// to "\r\n" and dot-stuffs, as the writer from smtp.Client.Data does.
func write(w io.Writer, from, to *mail.Address, m Message, now time.Time) error {
	var h strings.Builder
	h.WriteString("Date: " + now.Format(time.RFC1123Z) + "\r\n")
	h.WriteString("From: " + from.String() + "\r\n")
	h.WriteString("To: " + to.String() + "\r\n")
	h.WriteString("Subject: " + encodeSubject(m.Subject) + "\r\n")
	h.WriteString("Message-ID: <" + rand.Text() + "@" + domain(from.Address) + ">\r\n")
	h.WriteString("MIME-Version: 1.0\r\n")
	h.WriteString("Content-Type: text/plain; charset=utf-8\r\n")
	h.WriteString("Content-Transfer-Encoding: quoted-printable\r\n")
	h.WriteString("\r\n")
	if _, err := io.WriteString(w, h.String()); err != nil {
		return err
	}
	qp := quotedprintable.NewWriter(w)
	if _, err := io.WriteString(qp, m.Body); err != nil {
		return err
	}
	if !strings.HasSuffix(m.Body, "\n") {
		// DATA ends with a line end and ".": a last line without its end
		// would get one anyway.
		if _, err := io.WriteString(qp, "\n"); err != nil {
			return err
		}
	}
	return qp.Close()
}

// encodeSubject Q-encodes a subject that is not plain printable ASCII
// (RFC 2047), folding between encoded words so that no line grows past the
// length mail servers accept.
func encodeSubject(s string) string {
	e := mime.QEncoding.Encode("utf-8", s)
	// White space between two encoded words is not part of the text, so a
	// fold there changes nothing.
	return strings.ReplaceAll(e, "?= =?", "?=\r\n =?")
}

// domain returns the part of an address after its last "@".
func domain(addr string) string {
	return addr[strings.LastIndexByte(addr, '@')+1:]
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// plainAuth is AUTH PLAIN (RFC 4616). net/smtp has one, but it decides by the
// host name whether clear text is safe; exchange decides that itself, by the
// address actually connected to.
type plainAuth struct{ username, password string }

func (a plainAuth) Start(*smtp.ServerInfo) (string, []byte, error) {
	return "PLAIN", []byte("\x00" + a.username + "\x00" + a.password), nil
}

func (a plainAuth) Next(_ []byte, more bool) ([]byte, error) {
	if more {
		return nil, errors.New("unexpected challenge after AUTH PLAIN")
	}
	return nil, nil
}

// unavailable reports a failure to deliver during op. The cause, with the
// server's reply, is for the log; the password is never in it.
func (s SMTPSender) unavailable(ctx context.Context, op string, err error) error {
	cerr := ctx.Err()
	if cerr == nil && errors.Is(err, os.ErrDeadlineExceeded) {
		// The connection's deadline is ctx's, and it can pass a moment
		// before ctx itself notices.
		cerr = context.DeadlineExceeded
	}
	if cerr != nil {
		err = fmt.Errorf("%w: %w", cerr, err)
	}
	return &kurir.Error{
		Code:    kurir.EUnavailable,
		Message: "The e-mail could not be sent; try again later.",
		Err:     fmt.Errorf("mail: smtp %s: %s: %w", s.Addr, op, err),
	}
}

// misconfigured reports an SMTPSender whose own fields are wrong.
func (s SMTPSender) misconfigured(err error) error {
	return &kurir.Error{
		Code:    kurir.EInternal,
		Message: "The e-mail could not be sent.",
		Err:     fmt.Errorf("mail: smtp sender misconfigured: %w", err),
	}
}
