package main

import (
	"log/slog"
	"os"
	"strings"

	"kurir"
	"kurir/safety"
	"kurir/sqldb"
)

// newClassifier returns the external classifier that --classifier-url
// names, or nil without one. secretFile holds the secret that signs its
// requests; text is --classifier-text.
func newClassifier(url, secretFile, text string, db *sqldb.DB, clock kurir.Clock, log *slog.Logger) (*safety.Classifier, error) {
	if url == "" {
		if secretFile != "" {
			return nil, usagef("--classifier-secret-file needs --classifier-url")
		}
		return nil, nil
	}
	scope, err := safety.ParseTextScope(text)
	if err != nil {
		return nil, usagef("--classifier-text: %v", err)
	}
	cfg := safety.ClassifierConfig{URL: url, Text: scope}
	if secretFile != "" {
		b, err := os.ReadFile(secretFile)
		if err != nil {
			return nil, usagef("--classifier-secret-file: %v", err)
		}
		secret := strings.TrimSpace(string(b))
		if len(secret) < 16 {
			return nil, usagef("--classifier-secret-file: %s holds %d characters; a secret needs at least 16", secretFile, len(secret))
		}
		cfg.Secret = []byte(secret)
	}
	if scope == safety.TextAll {
		log.Warn("the classifier is sent the text of every message, private chats included (--classifier-text all)")
	}
	return safety.NewClassifier(cfg, db, clock, log), nil
}
