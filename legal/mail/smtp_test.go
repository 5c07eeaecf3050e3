package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"regexp"
	"strings"
	"testing"
	"time"

	"kurir"
)

func TestSMTPDelivers(t *testing.T) {
	for _, tt := range []struct {
		name string
		m    Message
	}{
		{"plain ASCII", Message{
			To:      "officer@police.example",
			Subject: "Your Kurir verification code",
			Body:    "Your code is 123456.\n",
		}},
		{"UTF-8 everywhere", Message{
			To:      "Jürgen Müller <officer@polizei.example>",
			Subject: "Ihr Bestätigungscode für Kurir — Код подтверждения",
			Body: "Grüße,\n\nIhr Code lautet 123456. Код: 123456.\n" +
				".\n" + // alone on a line it would end DATA, were it not stuffed
				"..two dots\n" +
				"trailing space \n" +
				"= an equals sign and a tab\t\n" +
				strings.Repeat("äöü ", 60) + "\n" + // far past 76 characters
				"no newline at the end",
		}},
		{"long non-ASCII subject", Message{
			To:      "officer@police.example",
			Subject: strings.Repeat("Überprüfung ", 17),
			Body:    "Windows line ends\r\nare kept as line ends\r\n",
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, &smtpServer{})
			s := SMTPSender{Addr: srv.addr, From: "Kurir Legal <legal@kurir.example>", Timeout: 10 * time.Second}
			before := time.Now().Add(-time.Second)
			if err := s.Send(context.Background(), tt.m); err != nil {
				t.Fatalf("Send: %v", err)
			}
			after := time.Now().Add(time.Second)
			got := srv.next(t)

			to, _ := mail.ParseAddress(tt.m.To)
			wantCmds := []string{"EHLO localhost", "MAIL FROM:<legal@kurir.example> BODY=8BITMIME", "RCPT TO:<" + to.Address + ">", "DATA", "QUIT"}
			if strings.Join(got.cmds, "\n") != strings.Join(wantCmds, "\n") {
				t.Errorf("commands:\n%s\nwant\n%s", strings.Join(got.cmds, "\n"), strings.Join(wantCmds, "\n"))
			}
			checkMessage(t, got.data, tt.m, before, after)
		})
	}
}

// checkMessage checks that data, as a server received it, is the message m
// sent by legal@kurir.example between before and after.
func checkMessage(t *testing.T, data string, m Message, before, after time.Time) {
	t.Helper()
	for i, l := range strings.Split(data, "\n") {
		if len(l) > 998 {
			t.Errorf("line %d is %d characters long, past RFC 5322's 998", i+1, len(l))
		}
		for j := 0; j < len(l); j++ {
			if l[j] >= 0x80 {
				t.Fatalf("line %d has a byte that is not ASCII: %q", i+1, l)
			}
		}
	}
	head, body, _ := strings.Cut(data, "\n\n")
	for i, l := range strings.Split(body, "\n") {
		if len(l) > 76 {
			t.Errorf("body line %d is %d characters long, past quoted-printable's 76", i+1, len(l))
		}
	}
	if strings.Contains(head, "\nBcc") {
		t.Errorf("headers have a Bcc:\n%s", head)
	}

	msg, err := mail.ReadMessage(strings.NewReader(data))
	if err != nil {
		t.Fatalf("the message does not parse: %v\n%s", err, data)
	}
	h := msg.Header
	from, err := h.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Name != "Kurir Legal" || from[0].Address != "legal@kurir.example" {
		t.Errorf("From: %q parses to %v, %v", h.Get("From"), from, err)
	}
	wantTo, _ := mail.ParseAddress(m.To)
	to, err := h.AddressList("To")
	if err != nil || len(to) != 1 || *to[0] != *wantTo {
		t.Errorf("To: %q parses to %v, %v; want %v", h.Get("To"), to, err, wantTo)
	}
	var dec mime.WordDecoder
	if subj, err := dec.DecodeHeader(h.Get("Subject")); err != nil || subj != m.Subject {
		t.Errorf("Subject: %q decodes to %q, %v; want %q", h.Get("Subject"), subj, err, m.Subject)
	}
	if d, err := h.Date(); err != nil || d.Before(before) || d.After(after) {
		t.Errorf("Date: %q is %v, %v; want between %v and %v", h.Get("Date"), d, err, before, after)
	}
	if id := h.Get("Message-ID"); !regexp.MustCompile(`^<[A-Z2-7]{26}@kurir\.example>$`).MatchString(id) {
		t.Errorf("Message-ID: %q", id)
	}
	for k, want := range map[string]string{
		"MIME-Version":              "1.0",
		"Content-Type":              "text/plain; charset=utf-8",
		"Content-Transfer-Encoding": "quoted-printable",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	raw, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatalf("the body is not quoted-printable: %v", err)
	}
	// Line ends travel as CRLF and arrive as the server stores them; the text
	// between them must be what was sent, byte for byte.
	want := strings.ReplaceAll(m.Body, "\r\n", "\n")
	if !strings.HasSuffix(want, "\n") {
		want += "\n" // DATA ends with a line end: the last line gets one
	}
	if got := strings.ReplaceAll(string(raw), "\r\n", "\n"); got != want {
		t.Errorf("body decodes to\n%q\nwant\n%q", got, want)
	}
}

func TestSMTPSTARTTLSAndAuth(t *testing.T) {
	cfg, pool := selfSigned(t)
	srv := startServer(t, &smtpServer{tls: cfg, auth: "\x00portal\x00pa:ss w@rd"})
	s := SMTPSender{
		Addr: srv.addr, From: "legal@kurir.example",
		Username: "portal", Password: "pa:ss w@rd",
		TLSConfig: &tls.Config{RootCAs: pool},
	}
	m := Message{To: "officer@police.example", Subject: "Code", Body: "123456\n"}
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := srv.next(t)
	want := []string{"EHLO localhost", "STARTTLS", "TLS EHLO localhost", "TLS AUTH PLAIN AHBvcnRhbABwYTpzcyB3QHJk", "TLS MAIL FROM:<legal@kurir.example> BODY=8BITMIME", "TLS RCPT TO:<officer@police.example>", "TLS DATA", "TLS QUIT"}
	if strings.Join(got.cmds, "\n") != strings.Join(want, "\n") {
		t.Errorf("commands:\n%s\nwant\n%s", strings.Join(got.cmds, "\n"), strings.Join(want, "\n"))
	}
	if got.auth != "\x00portal\x00pa:ss w@rd" {
		t.Errorf("AUTH PLAIN sent %q", got.auth)
	}
}

func TestSMTPWrongPassword(t *testing.T) {
	cfg, pool := selfSigned(t)
	srv := startServer(t, &smtpServer{tls: cfg, auth: "\x00portal\x00right"})
	s := SMTPSender{Addr: srv.addr, From: "legal@kurir.example", Username: "portal", Password: "Wrong-Secret", TLSConfig: &tls.Config{RootCAs: pool}}
	err := s.Send(context.Background(), Message{To: "officer@police.example", Subject: "Code", Body: "123456"})
	if kurir.ErrorCode(err) != kurir.EUnavailable || !strings.Contains(err.Error(), "535") {
		t.Fatalf("Send = %v, want unavailable with the server's 535", err)
	}
	if strings.Contains(err.Error(), "Wrong-Secret") {
		t.Errorf("the error shows the password: %v", err)
	}
	if got := srv.next(t); hasCmd(got, "MAIL") {
		t.Errorf("sent MAIL after a failed AUTH: %q", got.cmds)
	}
}

func TestSMTPUntrustedCertificate(t *testing.T) {
	// A server offering STARTTLS with a certificate no root vouches for: the
	// sender must stop, not carry on in clear text.
	cfg, _ := selfSigned(t)
	srv := startServer(t, &smtpServer{tls: cfg, auth: "\x00portal\x00secret", authInClear: true})
	s := SMTPSender{Addr: srv.addr, From: "legal@kurir.example", Username: "portal", Password: "secret"}
	err := s.Send(context.Background(), Message{To: "officer@police.example", Subject: "Code", Body: "123456"})
	if kurir.ErrorCode(err) != kurir.EUnavailable || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("Send = %v, want unavailable at STARTTLS", err)
	}
	got := srv.next(t)
	if hasCmd(got, "AUTH") || hasCmd(got, "MAIL") {
		t.Errorf("went on after a failed STARTTLS: %q", got.cmds)
	}
}

func TestSMTPPasswordInClearOnlyToLoopback(t *testing.T) {
	m := Message{To: "officer@police.example", Subject: "Code", Body: "123456"}
	s := SMTPSender{Addr: "mail.example.org:587", From: "legal@kurir.example", Username: "portal", Password: "secret"}

	// A server elsewhere that offers AUTH without STARTTLS: the password
	// stays here. net.Pipe stands for the remote connection; its address is
	// not a loopback one.
	srv := &smtpServer{auth: "\x00portal\x00secret", authInClear: true}
	client, server := net.Pipe()
	done := make(chan *session)
	go func() { done <- srv.serve(server) }()
	from, _ := mail.ParseAddress(s.From)
	to, _ := mail.ParseAddress(m.To)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := s.exchange(ctx, client, "mail.example.org", from, to, m)
	client.Close()
	got := <-done
	if kurir.ErrorCode(err) != kurir.EUnavailable || !strings.Contains(err.Error(), "STARTTLS") {
		t.Errorf("exchange = %v, want unavailable for want of STARTTLS", err)
	}
	if hasCmd(got, "AUTH") || got.auth != "" {
		t.Errorf("sent the password in clear text to a remote server: %q", got.cmds)
	}

	// The same server on 127.0.0.1 is this machine: no one is on the wire.
	local := startServer(t, &smtpServer{auth: "\x00portal\x00secret", authInClear: true})
	s.Addr = local.addr
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatalf("Send to a loopback relay with a login: %v", err)
	}
	if got := local.next(t); got.auth != "\x00portal\x00secret" || !hasCmd(got, "DATA") {
		t.Errorf("loopback session: %q, auth %q", got.cmds, got.auth)
	}
}

func TestSMTPNoAuthPlain(t *testing.T) {
	// A login is configured but the server offers no AUTH at all.
	srv := startServer(t, &smtpServer{})
	s := SMTPSender{Addr: srv.addr, From: "legal@kurir.example", Username: "portal", Password: "secret"}
	err := s.Send(context.Background(), Message{To: "officer@police.example", Subject: "Code", Body: "123456"})
	if kurir.ErrorCode(err) != kurir.EUnavailable || !strings.Contains(err.Error(), "AUTH PLAIN") {
		t.Fatalf("Send = %v, want unavailable naming AUTH PLAIN", err)
	}
	if got := srv.next(t); hasCmd(got, "MAIL") {
		t.Errorf("sent MAIL without the configured login: %q", got.cmds)
	}
}

func TestSMTPRecipientRefused(t *testing.T) {
	srv := startServer(t, &smtpServer{rcptReply: "550 5.1.1 no such user"})
	s := SMTPSender{Addr: srv.addr, From: "legal@kurir.example"}
	err := s.Send(context.Background(), Message{To: "nobody@police.example", Subject: "Code", Body: "123456"})
	var e *kurir.Error
	if !errors.As(err, &e) || e.Code != kurir.EInvalid || e.Field != "to" || e.Reason != "refused_address" {
		t.Fatalf("Send = %#v, want invalid to/refused_address", err)
	}
	if strings.Contains(e.Message, "no such user") {
		t.Errorf("the message for clients shows the server's reply: %q", e.Message)
	}
	if got := srv.next(t); hasCmd(got, "DATA") {
		t.Errorf("sent DATA after the recipient was refused: %q", got.cmds)
	}
}

func TestSMTPNonASCIIAddressNeedsSMTPUTF8(t *testing.T) {
	srv := startServer(t, &smtpServer{}) // does not offer SMTPUTF8
	s := SMTPSender{Addr: srv.addr, From: "legal@kurir.example"}
	err := s.Send(context.Background(), Message{To: "jürgen@polizei.example", Subject: "Code", Body: "123456"})
	var e *kurir.Error
	if !errors.As(err, &e) || e.Code != kurir.EInvalid || e.Reason != "unsupported_address" {
		t.Fatalf("Send = %v, want invalid unsupported_address", err)
	}
	if got := srv.next(t); hasCmd(got, "MAIL") {
		t.Errorf("sent MAIL: %q", got.cmds)
	}
}

func TestSMTPServerDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := SMTPSender{Addr: addr, From: "legal@kurir.example", Timeout: 5 * time.Second}
	err = s.Send(context.Background(), Message{To: "officer@police.example", Subject: "Code", Body: "123456"})
	if kurir.ErrorCode(err) != kurir.EUnavailable || !strings.Contains(err.Error(), "connect") {
		t.Fatalf("Send = %v, want unavailable at connect", err)
	}
}

func TestSMTPServerNeverAnswers(t *testing.T) {
	srv := startServer(t, &smtpServer{silent: true})
	m := Message{To: "officer@police.example", Subject: "Code", Body: "123456"}
	const limit = 300 * time.Millisecond
	for _, tt := range []struct {
		name    string
		timeout time.Duration
		ctx     func() (context.Context, context.CancelFunc)
		want    error
	}{
		{"Timeout", limit, func() (context.Context, context.CancelFunc) {
			return context.WithCancel(context.Background())
		}, context.DeadlineExceeded},
		{"context deadline", time.Hour, func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), limit)
		}, context.DeadlineExceeded},
		{"context canceled", time.Hour, func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(limit, cancel)
			return ctx, cancel
		}, context.Canceled},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := tt.ctx()
			defer cancel()
			s := SMTPSender{Addr: srv.addr, From: "legal@kurir.example", Timeout: tt.timeout}
			start := time.Now()
			err := s.Send(ctx, m)
			took := time.Since(start)
			if kurir.ErrorCode(err) != kurir.EUnavailable || !errors.Is(err, tt.want) {
				t.Errorf("Send = %v, want unavailable wrapping %v", err, tt.want)
			}
			if took < limit-50*time.Millisecond || took > limit+3*time.Second {
				t.Errorf("Send gave up after %v, want about %v", took, limit)
			}
		})
	}
}

func TestSMTPMisconfigured(t *testing.T) {
	m := Message{To: "officer@police.example", Subject: "Code", Body: "123456"}
	for _, s := range []SMTPSender{
		{Addr: "127.0.0.1:25", From: "not an address"},
		{Addr: "127.0.0.1:25", From: "legal@kurir.example\r\nBcc: x@example.org"},
		{Addr: "no port", From: "legal@kurir.example"},
	} {
		if err := s.Send(context.Background(), m); kurir.ErrorCode(err) != kurir.EInternal {
			t.Errorf("%+v: Send = %v, want internal", s, err)
		}
	}
}

func hasCmd(s *session, verb string) bool {
	for _, c := range s.cmds {
		c = strings.TrimPrefix(c, "TLS ")
		if strings.HasPrefix(strings.ToUpper(c), verb) {
			return true
		}
	}
	return false
}
