package mail

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"kurir"
)

func TestLogSenderRecords(t *testing.T) {
	var buf bytes.Buffer
	s := &LogSender{Log: slog.New(slog.NewJSONHandler(&buf, nil))}
	m := Message{To: "officer@police.example", Subject: "Ihr Bestätigungscode", Body: "Code: 123456\nGrüße\n"}
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	var rec struct{ Level, Msg, To, Subject, Body string }
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("log line %q: %v", buf.String(), err)
	}
	if rec.Level != "INFO" || rec.To != m.To || rec.Subject != m.Subject || rec.Body != m.Body {
		t.Errorf("logged %+v, want the whole message at INFO", rec)
	}
	if got := s.Sent(); len(got) != 1 || got[0] != m {
		t.Errorf("Sent() = %+v, want [%+v]", got, m)
	}
}

func TestLogSenderKeepsTheLast100(t *testing.T) {
	s := &LogSender{Log: slog.New(slog.DiscardHandler)}
	for i := range 150 {
		if err := s.Send(context.Background(), Message{To: "officer@police.example", Subject: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	got := s.Sent()
	if len(got) != 100 || got[0].Subject != "50" || got[99].Subject != "149" {
		t.Fatalf("Sent() has %d messages, %q to %q; want 100, 50 to 149", len(got), got[0].Subject, got[len(got)-1].Subject)
	}
	got[0].Subject = "changed"
	if s.Sent()[0].Subject != "50" {
		t.Error("changing what Sent returned changed the sender's record")
	}
}

func TestLogSenderConcurrent(t *testing.T) {
	s := &LogSender{Log: slog.New(slog.DiscardHandler)}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				if err := s.Send(context.Background(), Message{To: "officer@police.example", Subject: fmt.Sprint(g, i)}); err != nil {
					t.Error(err)
				}
				_ = s.Sent()
			}
		})
	}
	wg.Wait()
	if n := len(s.Sent()); n != 100 {
		t.Errorf("len(Sent()) = %d after 400 sends, want 100", n)
	}
}

func TestLogSenderNilLogUsesDefault(t *testing.T) {
	// Not parallel: it swaps the process's default logger.
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })

	var s LogSender
	if err := s.Send(context.Background(), Message{To: "officer@police.example", Subject: "Code", Body: "654321"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "654321") {
		t.Errorf("the default logger got %q", buf.String())
	}
}

func TestLogSenderDoneContext(t *testing.T) {
	s := &LogSender{Log: slog.New(slog.DiscardHandler)}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Send(ctx, Message{To: "officer@police.example"}); !errors.Is(err, context.Canceled) {
		t.Errorf("Send = %v, want context.Canceled", err)
	}
	if len(s.Sent()) != 0 {
		t.Error("a message was recorded on a canceled context")
	}
}

func TestHeaderInjectionRefused(t *testing.T) {
	// An SMTPSender pointed at a server that never answers: had it gone to the
	// network, it would have failed as unavailable after its timeout, not as
	// invalid at once.
	srv := startServer(t, &smtpServer{silent: true})
	for _, tt := range []struct {
		name, field string
		m           Message
	}{
		{"CRLF in To", "to", Message{To: "officer@police.example\r\nBcc: everyone@example.org", Subject: "Code"}},
		{"LF in To", "to", Message{To: "officer@police.example\nBcc: everyone@example.org", Subject: "Code"}},
		{"CR in To", "to", Message{To: "officer@police.example\r", Subject: "Code"}},
		{"CRLF in Subject", "subject", Message{To: "officer@police.example", Subject: "Code\r\nBcc: everyone@example.org"}},
		{"LF LF in Subject", "subject", Message{To: "officer@police.example", Subject: "Code\n\nA body of the attacker's"}},
		{"CR in Subject", "subject", Message{To: "officer@police.example", Subject: "Code\rX-Injected: 1"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			logs := &LogSender{Log: slog.New(slog.DiscardHandler)}
			smtp := SMTPSender{Addr: srv.addr, From: "legal@kurir.example", Timeout: 5 * time.Second}
			for name, s := range map[string]Sender{"LogSender": logs, "SMTPSender": smtp} {
				err := s.Send(context.Background(), tt.m)
				var e *kurir.Error
				if !errors.As(err, &e) || e.Code != kurir.EInvalid || e.Field != tt.field || e.Reason != "header_injection" {
					t.Errorf("%s.Send = %v, want invalid %s/header_injection", name, err, tt.field)
				} else if !strings.Contains(e.Message, "line break") {
					t.Errorf("%s: message %q does not say what is wrong", name, e.Message)
				}
			}
			if n := len(logs.Sent()); n != 0 {
				t.Errorf("LogSender recorded %d messages", n)
			}
		})
	}
}

func TestMessageRefused(t *testing.T) {
	s := &LogSender{Log: slog.New(slog.DiscardHandler)}
	ok := Message{To: "officer@police.example", Subject: "Code", Body: "123456"}
	for _, tt := range []struct {
		name, field, reason string
		edit                func(*Message)
	}{
		{"no address", "to", "missing", func(m *Message) { m.To = "" }},
		{"not an address", "to", "bad_address", func(m *Message) { m.To = "officer at police" }},
		{"two addresses", "to", "bad_address", func(m *Message) { m.To = "a@police.example, b@police.example" }},
		{"address too long", "to", "too_long", func(m *Message) { m.To = strings.Repeat("a", 320) + "@police.example" }},
		{"subject too long", "subject", "too_long", func(m *Message) { m.Subject = strings.Repeat("a", 251) }},
		{"subject not UTF-8", "subject", "bad_utf8", func(m *Message) { m.Subject = "Code \xff" }},
		{"body too large", "body", "too_long", func(m *Message) { m.Body = strings.Repeat("a", 1<<20+1) }},
		{"body not UTF-8", "body", "bad_utf8", func(m *Message) { m.Body = "Code \xc3\x28" }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := ok
			tt.edit(&m)
			err := s.Send(context.Background(), m)
			var e *kurir.Error
			if !errors.As(err, &e) || e.Code != kurir.EInvalid || e.Field != tt.field || e.Reason != tt.reason {
				t.Errorf("Send = %v, want invalid %s/%s", err, tt.field, tt.reason)
			}
		})
	}
	if n := len(s.Sent()); n != 0 {
		t.Errorf("recorded %d refused messages", n)
	}
	if err := s.Send(context.Background(), ok); err != nil {
		t.Errorf("the unedited message: %v", err)
	}
}

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		name, in string
		want     Sender
	}{
		{"log", "log:", &LogSender{}},
		{"smtp with a login", "smtp://kurir:s3cret@mail.example.org:587?from=kurir@example.org",
			SMTPSender{Addr: "mail.example.org:587", From: "kurir@example.org", Username: "kurir", Password: "s3cret"}},
		{"relay without a login, named sender, timeout", "smtp://127.0.0.1:25?from=Kurir%20Legal%20%3Clegal@example.org%3E&timeout=10s",
			SMTPSender{Addr: "127.0.0.1:25", From: "Kurir Legal <legal@example.org>", Timeout: 10 * time.Second}},
		{"escaped user and password, IPv6", "smtp://u%40x:p%3A%2F%3F%23%25%26w@[::1]:2525/?from=a@example.org",
			SMTPSender{Addr: "[::1]:2525", From: "a@example.org", Username: "u@x", Password: "p:/?#%&w"}},
		{"upper-case scheme", "SMTP://mail.example.org:587?from=a@example.org",
			SMTPSender{Addr: "mail.example.org:587", From: "a@example.org"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			switch want := tt.want.(type) {
			case *LogSender:
				if l, ok := got.(*LogSender); !ok || l.Log != nil {
					t.Errorf("Parse(%q) = %#v, want a *LogSender with a nil Log", tt.in, got)
				}
			case SMTPSender:
				if s, ok := got.(SMTPSender); !ok || s != want {
					t.Errorf("Parse(%q) =\n%#v\nwant\n%#v", tt.in, got, want)
				}
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, tt := range []struct{ name, in, want string }{
		{"empty", "", "no sender configured"},
		{"log with settings", "log:verbose", "takes no settings"},
		{"smtps", "smtps://kurir:Hunter2Secret@mail.example.org:465?from=a@example.org", "smtps:// (TLS from the first byte) is not supported"},
		{"other scheme", "http://mail.example.org", `unknown sender scheme "http"`},
		{"no scheme", "mail.example.org", "no scheme"},
		{"host taken for a scheme", "mail.example.org:587", `unknown sender scheme "mail.example.org"`},
		{"one slash short", "smtp:mail.example.org:587", "two slashes"},
		{"no host", "smtp://:587?from=a@example.org", "no host"},
		{"no port", "smtp://kurir:Hunter2Secret@mail.example.org?from=a@example.org", "no port"},
		{"port out of range", "smtp://mail.example.org:99999?from=a@example.org", "1 to 65535"},
		{"port not a number", "smtp://mail.example.org:smtp?from=a@example.org", "not a valid URL"},
		{"no from", "smtp://mail.example.org:587", "no from address"},
		{"bad from", "smtp://kurir:Hunter2Secret@mail.example.org:587?from=kurir", "from address in the smtp URL is not an e-mail address"},
		{"from with a line break", "smtp://mail.example.org:587?from=a@example.org%0D%0ABcc:%20b@example.org", "from address in the smtp URL is not an e-mail address"},
		{"two froms", "smtp://mail.example.org:587?from=a@example.org&from=b@example.org", "2 from= settings"},
		{"misspelt setting", "smtp://mail.example.org:587?form=a@example.org", "setting other than from and timeout"},
		{"bad timeout", "smtp://mail.example.org:587?from=a@example.org&timeout=soon", "positive duration"},
		{"negative timeout", "smtp://mail.example.org:587?from=a@example.org&timeout=-1s", "positive duration"},
		{"user without password", "smtp://kurir@mail.example.org:587?from=a@example.org", "user name but no password"},
		{"password without user", "smtp://:Hunter2Secret@mail.example.org:587?from=a@example.org", "password but no user name"},
		{"path", "smtp://mail.example.org:587/submit?from=a@example.org", "has a path"},
		// Passwords that were not percent-encoded, which url.Parse splits
		// into other parts of the URL, or refuses with the URL in its error.
		{"unescaped % in password", "smtp://kurir:Hunter2%zzSecret@mail.example.org:587?from=a@example.org", "not a valid URL"},
		{"unescaped / in password", "smtp://kurir:Hunter2/Secret@mail.example.org:587?from=a@example.org", "not a valid URL"},
		{"unescaped / after a numeric start", "smtp://kurir:25/Hunter2Secret@mail.example.org:587?from=a@example.org", "has a path"},
		{"unescaped ? in password", "smtp://kurir:1?Hunter2Secret=x@mail.example.org:587&from=a@example.org", "setting other than from and timeout"},
		{"unescaped ? in password before from", "smtp://kurir:1?from=Hunter2Secret@mail.example.org:587", "from address in the smtp URL is not an e-mail address"},
		{"unescaped # in password", "smtp://kurir:1#Hunter2Secret@mail.example.org:587?from=a@example.org", "fragment"},
		{"space in password", "smtp://kurir:Hunter2 Secret@mail.example.org:587?from=a@example.org", "not a valid URL"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %#v, want an error", tt.in, s)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse(%q) error = %q, want it to contain %q", tt.in, err, tt.want)
			}
			if strings.Contains(err.Error(), "Hunter2") || strings.Contains(err.Error(), "Secret") {
				t.Errorf("Parse(%q) error shows the password: %q", tt.in, err)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"log:", "smtp://u:p@h:25?from=a@b.c&timeout=1s", "smtp://h:25", "smtps://x", "smtp://[::1]:25?from=a@b.c", "smtp://u:%zz@h:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := Parse(in)
		if err != nil {
			return
		}
		if smtp, ok := s.(SMTPSender); ok && (smtp.Addr == "" || smtp.From == "") {
			t.Fatalf("Parse(%q) = %#v with no address or sender", in, smtp)
		}
	})
}
