package main

import (
	"errors"
	"io"
	"testing"
	"time"

	"kurir/ratelimit"
	"kurir/safety"
	"kurir/safety/textscan"
)

// spamLimits parses "kurir serve"'s spam settings from args and env.
func spamLimits(t *testing.T, args []string, env map[string]string) (safety.Limits, error) {
	t.Helper()
	var cfg serveConfig
	_, e := newFlagSet("serve", serveHelp, func(k string) string { return env[k] }, io.Discard, io.Discard)
	cfg.register(e)
	if err := parse(e, args, io.Discard); err != nil {
		return safety.Limits{}, err
	}
	return cfg.spam.limits()
}

// TestSpamSettings: the spam limits' defaults are safety.DefaultLimits, each
// can be set by flag or KURIR_* variable, and a bad value is a usage error
// naming the setting.
func TestSpamSettings(t *testing.T) {
	l, err := spamLimits(t, nil, nil)
	if err != nil || l != safety.DefaultLimits {
		t.Errorf("defaults: %+v, %v; want %+v", l, err, safety.DefaultLimits)
	}
	l, err = spamLimits(t, []string{"--spam-rate=5/2s", "--spam-same-text=off", "--spam-flood=50/1h", "--spam-flood-action=hold", "--spam-escalate=3/30m"},
		map[string]string{"KURIR_SPAM_MAX_MENTIONS": "3", "KURIR_SPAM_NEW_ACCOUNT_AGE": "72h", "KURIR_SPAM_NEW_ACCOUNT_RATE": "2/10s"})
	want := safety.Limits{
		PerAccount: ratelimit.Limit{Every: 2 * time.Second, Burst: 5}, MaxMentions: 3,
		NewAccount: ratelimit.Limit{Every: 10 * time.Second, Burst: 2}, NewAccountAge: 72 * time.Hour,
		Flood:    safety.Flood{Senders: 50, Window: time.Hour, Action: textscan.Hold},
		Escalate: safety.Escalate{Refusals: 3, Window: 30 * time.Minute},
	}
	if err != nil || l != want {
		t.Errorf("set: %+v, %v; want %+v", l, err, want)
	}
	for _, args := range [][]string{
		{"--spam-rate=fast"}, {"--spam-rate=0/1s"}, {"--spam-same-text=5/-1s"}, {"--spam-flood=20"},
		{"--spam-flood-action=block"}, {"--spam-max-mentions=-1"}, {"--spam-escalate=often"},
	} {
		var usage usageError
		if _, err := spamLimits(t, args, nil); !errors.As(err, &usage) {
			t.Errorf("%q: %v, want a usage error", args, err)
		}
	}
}
