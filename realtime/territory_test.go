package realtime_test

import (
	"strings"
	"testing"

	"kurir"
	"kurir/messaging"
	"kurir/realtime"
)

// withheldIn is a Territory that withholds every message of one chat in one
// country, as messaging does for a restriction there.
type withheldIn struct {
	chat    messaging.ChatID
	country string
}

func (w withheldIn) LiveRestricted(ev messaging.Event) bool {
	return ev.ChatID == w.chat && ev.Message != nil
}

func (w withheldIn) LiveView(loc kurir.Location, ev messaging.Event) (messaging.Event, bool) {
	if loc.Network != w.country && loc.Declared != w.country {
		return ev, false
	}
	m := *ev.Message
	m.Text, m.Withheld = "", &messaging.Withholding{Country: w.country, Reason: "court order"}
	ev.Message = &m
	return ev, true
}

// registerAt registers a session for u at loc, owned by the test.
func (h *harness) registerAt(u kurir.UserID, loc kurir.Location) *session {
	woken := make(chan struct{}, 1)
	s := &session{woken: woken}
	s.Session = h.hub.RegisterAt(u, 0, loc, func() {
		select {
		case woken <- struct{}{}:
		default:
		}
	})
	return s
}

// TestLivePushWithholdsByPlace: a device in the country where a chat is
// withheld gets its posts without their content, in small chats (numbered
// in the user's log, so its pts stays gap-free) and large ones alike; devices
// elsewhere, or whose place is unknown, get them whole; other chats are not
// touched.
func TestLivePushWithholdsByPlace(t *testing.T) {
	h := start(t, options{cfg: realtime.Config{Territory: withheldIn{chat: 7, country: "DE"}}})
	de := h.registerAt(1, kurir.Location{Network: "DE"})
	declared := h.registerAt(1, kurir.Location{Network: "FR", Declared: "DE"})
	fr := h.registerAt(2, kurir.Location{Network: "FR"})
	nowhere := h.register(2)

	h.publish(small(post(7, 1), to(1, 10), to(2, 20)))
	for _, s := range []*session{de, declared} {
		f := next(t, s)
		if f.typ != "update" || f.pts != 10 || strings.Contains(string(f.event), "Guten") || !strings.Contains(string(f.event), `"withheld"`) {
			t.Errorf("in Germany: %s", f)
		}
	}
	for _, s := range []*session{fr, nowhere} {
		if f := next(t, s); f.pts != 20 || !strings.Contains(string(f.event), "Guten Morgen") || strings.Contains(string(f.event), "withheld") {
			t.Errorf("elsewhere: %s", f)
		}
	}

	h.hub.Follow(de.Session, 7, 8)
	h.hub.Follow(fr.Session, 7, 8)
	h.publish(large(post(7, 2)))
	if f := next(t, de); f.typ != "chat_event" || f.seq != 2 || strings.Contains(string(f.event), "Guten") {
		t.Errorf("channel post in Germany: %s", f)
	}
	if f := next(t, fr); !strings.Contains(string(f.event), "Guten Morgen") {
		t.Errorf("channel post in France: %s", f)
	}
	h.publish(large(post(8, 1)))
	if f := next(t, de); f.seq != 1 || !strings.Contains(string(f.event), "Guten Morgen") {
		t.Errorf("another channel's post in Germany: %s", f)
	}
}
