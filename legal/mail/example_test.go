package mail_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"kurir/legal/mail"
)

func ExampleLogSender() {
	// Drop the time so that the output is the same on every run.
	log := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	s := &mail.LogSender{Log: log}
	err := s.Send(context.Background(), mail.Message{
		To:      "officer@police.example",
		Subject: "Your Kurir code",
		Body:    "123456",
	})
	fmt.Println(err, len(s.Sent()))
	// Output:
	// level=INFO msg=mail to=officer@police.example subject="Your Kurir code" body=123456
	// <nil> 1
}

func ExampleParse() {
	s, err := mail.Parse("smtp://portal:s3cret@mail.example.org:587?from=Kurir%20Legal%20%3Clegal@example.org%3E")
	if err != nil {
		fmt.Println(err)
		return
	}
	smtp := s.(mail.SMTPSender)
	fmt.Println(smtp.Addr, smtp.From, smtp.Username)

	_, err = mail.Parse("smtp://portal:s3cret@mail.example.org?from=legal@example.org")
	fmt.Println(err)
	// Output:
	// mail.example.org:587 Kurir Legal <legal@example.org> portal
	// mail: the smtp URL has no port; write smtp://HOST:587 for submission with STARTTLS, or the port your relay listens on
}
