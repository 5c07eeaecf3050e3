package main

import (
	"time"

	"kurir/safety"
	"kurir/safety/textscan"
)

// spamConfig is what "kurir serve" is told about the spam heuristics
// (safety.Limits). Its defaults are safety.DefaultLimits, written out.
type spamConfig struct {
	rate, newRate, sameText, flood, floodAction string
	escalate                                    string
	newAge                                      time.Duration
	mentions                                    int
}

func (c *spamConfig) register(e envFlags) {
	d := safety.DefaultLimits
	e.string(&c.rate, "spam-rate", "KURIR_SPAM_RATE", "20/1s", "messages one account may send, in all chats together: N at once, then one every INTERVAL (N/INTERVAL), or off")
	e.string(&c.newRate, "spam-new-account-rate", "KURIR_SPAM_NEW_ACCOUNT_RATE", "10/3s", "messages an account younger than --spam-new-account-age may send, on top of --spam-rate: N/INTERVAL, or off")
	e.duration(&c.newAge, "spam-new-account-age", "KURIR_SPAM_NEW_ACCOUNT_AGE", d.NewAccountAge, "how long after its creation an account counts as new")
	e.string(&c.sameText, "spam-same-text", "KURIR_SPAM_SAME_TEXT", "5/1m", "how often one account may send the same content (text, file or forwarded message), in any chats: N/INTERVAL, or off")
	e.int(&c.mentions, "spam-max-mentions", "KURIR_SPAM_MAX_MENTIONS", d.MaxMentions, "most @mentions one message may carry; 0 for no limit")
	e.string(&c.flood, "spam-flood", "KURIR_SPAM_FLOOD", "20/10m", "the same content sent by this many accounts within this window (N/WINDOW) is a flood, flagged or held for review; off for none")
	e.string(&c.floodAction, "spam-flood-action", "KURIR_SPAM_FLOOD_ACTION", "flag", "what a flood's messages get: flag (delivered, and reviewed) or hold (unseen until reviewed)")
	e.string(&c.escalate, "spam-escalate", "KURIR_SPAM_ESCALATE", "10/1h", "an account with this many messages refused by the limits within this window (N/WINDOW, counted per node) gets a moderation case; off for none")
}

// limits returns the limits c describes, or a usage error naming the
// setting that is wrong.
func (c *spamConfig) limits() (safety.Limits, error) {
	l := safety.Limits{NewAccountAge: c.newAge, MaxMentions: c.mentions}
	var err error
	if l.PerAccount, err = safety.ParseLimit(c.rate); err != nil {
		return safety.Limits{}, usagef("--spam-rate: %v", err)
	}
	if l.NewAccount, err = safety.ParseLimit(c.newRate); err != nil {
		return safety.Limits{}, usagef("--spam-new-account-rate: %v", err)
	}
	if l.SameText, err = safety.ParseLimit(c.sameText); err != nil {
		return safety.Limits{}, usagef("--spam-same-text: %v", err)
	}
	flood, err := safety.ParseLimit(c.flood)
	if err != nil {
		return safety.Limits{}, usagef("--spam-flood: %v", err)
	}
	l.Flood.Senders, l.Flood.Window = flood.Burst, flood.Every
	escalate, err := safety.ParseLimit(c.escalate)
	if err != nil {
		return safety.Limits{}, usagef("--spam-escalate: %v", err)
	}
	l.Escalate.Refusals, l.Escalate.Window = escalate.Burst, escalate.Every
	switch c.floodAction {
	case "flag":
		l.Flood.Action = textscan.Flag
	case "hold":
		l.Flood.Action = textscan.Hold
	default:
		return safety.Limits{}, usagef("--spam-flood-action %q: want flag or hold", c.floodAction)
	}
	if err := l.Validate(); err != nil {
		return safety.Limits{}, usagef("spam limits: %v", err)
	}
	return l, nil
}
