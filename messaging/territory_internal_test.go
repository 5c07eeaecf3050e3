package messaging

import (
	"context"
	"fmt"
	"testing"

	"kurir"
)

// BenchmarkWithholdPage measures the territorial filter alone on a page of
// 50 messages, with 10,000 restrictions in memory: what it adds to every
// history read, sync page and search of a reader whose country is known.
//
//	other      none of the restrictions is about this chat (nearly always)
//	rules      the chat has message restrictions, every 5th withheld, by
//	           country rules looked up in a Territory
func BenchmarkWithholdPage(b *testing.B) {
	rs := &restrictionSet{chats: map[ChatID]*chatRestrictions{}}
	for i := range 10_000 {
		id := ChatID(1_000 + i/10)
		cr := rs.chats[id]
		if cr == nil {
			cr = &chatRestrictions{msgs: map[int64][]*Restriction{}}
			rs.chats[id] = cr
		}
		cr.msgs[int64(i%10+1)] = []*Restriction{{Chat: id, Seq: int64(i%10 + 1), Scope: []string{"FR"}, Reason: "r"}}
	}
	here := &chatRestrictions{msgs: map[int64][]*Restriction{}}
	for seq := int64(1); seq <= 50; seq += 5 {
		here.msgs[seq] = []*Restriction{{Chat: 7, Seq: seq, Category: "hate_speech", Reason: "r"}}
	}
	rs.chats[7] = here
	s := &Service{cfg: Config{Territory: rulesIn{"DE": "§ 130 StGB"}}}
	s.restr.set.Store(rs)
	ctx := kurir.WithLocation(context.Background(), kurir.Location{Network: "DE", Declared: "AT"})
	page := func(chat ChatID) []Message {
		ms := make([]Message, 50)
		for i := range ms {
			ms[i] = Message{ChatID: chat, Seq: int64(i + 1), Text: fmt.Sprint("post ", i)}
		}
		return ms
	}
	for _, c := range []struct {
		name     string
		chat     ChatID
		withheld int
	}{{"other", 6, 0}, {"rules", 7, 10}} {
		b.Run(c.name, func(b *testing.B) {
			ms := page(c.chat)
			for b.Loop() {
				if err := s.withholdMessages(ctx, ms); err != nil {
					b.Fatal(err)
				}
			}
			n := 0
			for _, m := range ms {
				if m.Withheld != nil {
					n++
				}
			}
			if n != c.withheld {
				b.Fatalf("%d withheld, want %d", n, c.withheld)
			}
		})
	}
}

// rulesIn is a Territory whose rules make every category illegal in the
// countries it maps, under the law it names.
type rulesIn map[string]string

func (r rulesIn) Scope(codes []string) ([]string, error) { return codes, nil }

func (r rulesIn) Applies(country string, scope []string, category string) (string, bool) {
	ref, ok := r[country]
	return ref, ok && len(scope) == 0
}
