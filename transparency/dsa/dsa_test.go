package dsa_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"kurir/jurisdiction"
	"kurir/moderation"
	"kurir/transparency/dsa"
)

var (
	actedAt  = time.Date(2026, 11, 1, 9, 30, 0, 0, time.UTC)
	postedAt = time.Date(2026, 10, 30, 23, 59, 0, 0, time.UTC)
	eea      = strings.Fields("AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IS IT LI LT LU LV MT NL NO PL PT RO SE SI SK")
	eu       = strings.Fields("AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK")
)

// message is a removed message, as moderation records it: the base the
// cases below change.
func message() dsa.ActionRecord {
	return dsa.ActionRecord{ID: 42, Kind: moderation.RemoveMessage, Subject: "message:7:3", Category: moderation.Spam,
		Ground: moderation.GroundTerms, Facts: "Forty identical invitations to a paid channel within a minute.", ContentType: "text",
		Source: moderation.SourceUser, At: actedAt, ContentAt: postedAt}
}

// removed is the statement of message().
func removed() dsa.Statement {
	return dsa.Statement{
		DecisionVisibility:             []string{"DECISION_VISIBILITY_CONTENT_REMOVED"},
		DecisionGround:                 "DECISION_GROUND_INCOMPATIBLE_CONTENT",
		IncompatibleContentGround:      "kurir terms of service § 4.18: Spam",
		IncompatibleContentExplanation: "Forty identical invitations to a paid channel within a minute.",
		Category:                       "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
		ContentType:                    []string{"CONTENT_TYPE_TEXT"},
		ContentDate:                    "2026-10-30",
		ApplicationDate:                "2026-11-01",
		TerritorialScope:               eea,
		DecisionFacts:                  "Forty identical invitations to a paid channel within a minute.",
		SourceType:                     "SOURCE_ARTICLE_16",
		AutomatedDetection:             "No",
		AutomatedDecision:              "AUTOMATED_DECISION_NOT_AUTOMATED",
		PUID:                           "kurir-action-42",
	}
}

// TestFromAction checks every field of the statement of each kind of
// action, on each ground and from each source.
func TestFromAction(t *testing.T) {
	long := strings.Repeat("Ω", 5000)
	tests := []struct {
		name   string
		action func(a *dsa.ActionRecord)
		want   func(s *dsa.Statement)
	}{
		{"message removed on the terms", func(a *dsa.ActionRecord) {}, func(s *dsa.Statement) {}},
		{"terms decision links its clause", func(a *dsa.ActionRecord) {
			a.TermsURL = "https://kurir.example/terms#top"
		}, func(s *dsa.Statement) {
			s.DecisionGroundReferenceURL = "https://kurir.example/terms#clause-4.18"
		}},
		{"message removed as illegal", func(a *dsa.ActionRecord) {
			a.Category, a.Ground, a.LegalReference = moderation.HateSpeech, moderation.GroundIllegal, "§ 130 StGB"
		}, func(s *dsa.Statement) {
			s.DecisionGround = "DECISION_GROUND_ILLEGAL_CONTENT"
			s.IncompatibleContentGround, s.IncompatibleContentExplanation = "", ""
			s.IllegalContentLegalGround = "§ 130 StGB"
			s.IllegalContentExplanation = s.DecisionFacts
			s.Category = "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH"
			s.CategorySpecification = []string{"KEYWORD_HATE_SPEECH"}
		}},
		{"file removed by automated means", func(a *dsa.ActionRecord) {
			a.Kind, a.Subject, a.ContentType, a.Category = moderation.RemoveMedia, "media:9", "image", moderation.ChildAbuse
			a.Source, a.AutomatedDetection, a.AutomatedDecision = moderation.SourceOwn, true, true
		}, func(s *dsa.Statement) {
			s.ContentType = []string{"CONTENT_TYPE_IMAGE"}
			s.Category, s.CategorySpecification = "STATEMENT_CATEGORY_PROTECTION_OF_MINORS", []string{"KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL"}
			s.IncompatibleContentGround = "kurir terms of service § 4.1: Child sexual abuse"
			s.SourceType, s.AutomatedDetection, s.AutomatedDecision = "SOURCE_VOLUNTARY", "Yes", "AUTOMATED_DECISION_FULLY"
		}},
		{"a file of another type", func(a *dsa.ActionRecord) {
			a.Kind, a.Subject, a.ContentType = moderation.RemoveMedia, "media:9", "other"
		}, func(s *dsa.Statement) {
			s.ContentType, s.ContentTypeOther = []string{"CONTENT_TYPE_OTHER"}, "file"
		}},
		{"video", func(a *dsa.ActionRecord) { a.ContentType = "video" }, func(s *dsa.Statement) { s.ContentType = []string{"CONTENT_TYPE_VIDEO"} }},
		{"audio", func(a *dsa.ActionRecord) { a.ContentType = "audio" }, func(s *dsa.Statement) { s.ContentType = []string{"CONTENT_TYPE_AUDIO"} }},
		{"channel taken down", func(a *dsa.ActionRecord) {
			a.Kind, a.Subject, a.ChatKind, a.Category = moderation.TakeDown, "chat:7", "channel", moderation.Terrorism
			a.Source, a.SourceIdentity = moderation.SourceFlagger, "Counter Extremism Project"
		}, func(s *dsa.Statement) {
			s.DecisionProvision = "DECISION_PROVISION_PARTIAL_TERMINATION"
			s.ContentType, s.ContentTypeOther = []string{"CONTENT_TYPE_OTHER"}, "channel"
			s.Category, s.CategorySpecification = "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY", []string{"KEYWORD_TERRORIST_CONTENT"}
			s.IncompatibleContentGround = "kurir terms of service § 4.2: Terrorism"
			s.SourceType, s.SourceIdentity = "SOURCE_TRUSTED_FLAGGER", "Counter Extremism Project"
		}},
		{"takedown reversed", func(a *dsa.ActionRecord) {
			a.Kind, a.Subject, a.ChatKind = moderation.TakeDown, "chat:7", "group"
			a.Reversed = actedAt.Add(50 * time.Hour)
		}, func(s *dsa.Statement) {
			s.DecisionProvision = "DECISION_PROVISION_PARTIAL_TERMINATION"
			s.ContentType, s.ContentTypeOther = []string{"CONTENT_TYPE_OTHER"}, "group"
			s.EndDateVisibilityRestriction, s.EndDateServiceRestriction = "2026-11-03", "2026-11-03"
		}},
		{"withheld in Germany under a removal order", func(a *dsa.ActionRecord) {
			a.Kind, a.Territory, a.Category, a.Ground, a.LegalReference = moderation.Restrict, []string{"DE"}, moderation.Terrorism, moderation.GroundIllegal, "Regulation (EU) 2021/784"
			a.Source = moderation.SourceLegal
		}, func(s *dsa.Statement) {
			s.DecisionVisibility = []string{"DECISION_VISIBILITY_CONTENT_DISABLED"}
			s.TerritorialScope = []string{"DE"}
			s.DecisionGround = "DECISION_GROUND_ILLEGAL_CONTENT"
			s.IncompatibleContentGround, s.IncompatibleContentExplanation = "", ""
			s.IllegalContentLegalGround, s.IllegalContentExplanation = "Regulation (EU) 2021/784", s.DecisionFacts
			s.Category, s.CategorySpecification = "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY", []string{"KEYWORD_TERRORIST_CONTENT"}
			s.SourceType = "SOURCE_TYPE_OTHER_NOTIFICATION"
		}},
		{"withheld in the EU, Turkey and Austria", func(a *dsa.ActionRecord) {
			a.Kind, a.Territory = moderation.Restrict, []string{"TR", "EU", "AT"}
		}, func(s *dsa.Statement) {
			s.DecisionVisibility, s.TerritorialScope = []string{"DECISION_VISIBILITY_CONTENT_DISABLED"}, eu
		}},
		{"withheld in the EEA", func(a *dsa.ActionRecord) {
			a.Kind, a.Territory = moderation.Restrict, []string{"EEA"}
		}, func(s *dsa.Statement) {
			s.DecisionVisibility = []string{"DECISION_VISIBILITY_CONTENT_DISABLED"}
		}},
		{"withheld by country rules", func(a *dsa.ActionRecord) {
			a.Kind, a.Category, a.Ground = moderation.Restrict, moderation.HateSpeech, moderation.GroundIllegal
			a.LegalReference = "the law of each country where it is withheld (country rules)"
			a.Rules = []jurisdiction.Rule{
				{Scope: "DE", Category: moderation.HateSpeech, LegalRef: "§ 130 StGB"},
				{Scope: "FR", Category: moderation.HateSpeech, LegalRef: "Loi du 29 juillet 1881, art. 24"},
				{Scope: "RU", Category: moderation.HateSpeech, LegalRef: "Art. 282"},
				{Scope: "PL", Category: moderation.Spam, LegalRef: "not this category"},
			}
			a.Reversed = actedAt.Add(time.Hour)
		}, func(s *dsa.Statement) {
			s.DecisionVisibility, s.TerritorialScope = []string{"DECISION_VISIBILITY_CONTENT_DISABLED"}, []string{"DE", "FR"}
			s.DecisionGround = "DECISION_GROUND_ILLEGAL_CONTENT"
			s.IncompatibleContentGround, s.IncompatibleContentExplanation = "", ""
			s.IllegalContentLegalGround = "DE: § 130 StGB; FR: Loi du 29 juillet 1881, art. 24"
			s.IllegalContentExplanation = s.DecisionFacts
			s.Category, s.CategorySpecification = "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH", []string{"KEYWORD_HATE_SPEECH"}
			s.EndDateVisibilityRestriction = "2026-11-01"
		}},
		{"channel labelled", func(a *dsa.ActionRecord) {
			a.Kind, a.Subject, a.ChatKind, a.Category = moderation.Label, "chat:7", "channel", moderation.Violence
		}, func(s *dsa.Statement) {
			s.DecisionVisibility = []string{"DECISION_VISIBILITY_CONTENT_LABELLED"}
			s.ContentType, s.ContentTypeOther = []string{"CONTENT_TYPE_OTHER"}, "channel"
			s.Category, s.IncompatibleContentGround = "STATEMENT_CATEGORY_VIOLENCE", "kurir terms of service § 4.4: Violence"
		}},
		{"account suspended", func(a *dsa.ActionRecord) {
			a.Kind, a.Subject, a.Until, a.ContentAt = moderation.Suspend, "user:5", actedAt.Add(7*24*time.Hour), time.Date(2024, 2, 29, 8, 0, 0, 0, time.UTC)
			a.Source = moderation.SourceNotice
		}, func(s *dsa.Statement) {
			s.DecisionVisibility = nil
			s.DecisionAccount, s.EndDateAccountRestriction = "DECISION_ACCOUNT_SUSPENDED", "2026-11-08"
			s.ContentType, s.ContentTypeOther = []string{"CONTENT_TYPE_OTHER"}, "account"
			s.ContentDate = "2024-02-29"
		}},
		{"suspension reversed early", func(a *dsa.ActionRecord) {
			a.Kind, a.Subject, a.Until, a.Reversed = moderation.Suspend, "user:5", actedAt.Add(7*24*time.Hour), actedAt.Add(24*time.Hour)
		}, func(s *dsa.Statement) {
			s.DecisionVisibility = nil
			s.DecisionAccount, s.EndDateAccountRestriction = "DECISION_ACCOUNT_SUSPENDED", "2026-11-02"
			s.ContentType, s.ContentTypeOther = []string{"CONTENT_TYPE_OTHER"}, "account"
		}},
		{"suspension past the schema's last date", func(a *dsa.ActionRecord) {
			a.Kind, a.Subject, a.Until = moderation.Suspend, "user:5", time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)
		}, func(s *dsa.Statement) {
			s.DecisionVisibility, s.DecisionAccount = nil, "DECISION_ACCOUNT_SUSPENDED"
			s.ContentType, s.ContentTypeOther = []string{"CONTENT_TYPE_OTHER"}, "account"
		}},
		{"account banned", func(a *dsa.ActionRecord) {
			a.Kind, a.Subject, a.Category = moderation.Ban, "user:5", moderation.Fake
		}, func(s *dsa.Statement) {
			s.DecisionVisibility, s.DecisionAccount = nil, "DECISION_ACCOUNT_TERMINATED"
			s.ContentType, s.ContentTypeOther = []string{"CONTENT_TYPE_OTHER"}, "account"
			s.Category, s.IncompatibleContentGround = "STATEMENT_CATEGORY_SCAMS_AND_FRAUD", "kurir terms of service § 4.16: Fake account or impersonation"
		}},
		{"ban reversed on appeal", func(a *dsa.ActionRecord) {
			a.Kind, a.Subject, a.Reversed = moderation.Ban, "user:5", actedAt.AddDate(0, 1, 0)
		}, func(s *dsa.Statement) {
			s.DecisionVisibility, s.DecisionAccount, s.EndDateAccountRestriction = nil, "DECISION_ACCOUNT_TERMINATED", "2026-12-01"
			s.ContentType, s.ContentTypeOther = []string{"CONTENT_TYPE_OTHER"}, "account"
		}},
		{"no facts recorded", func(a *dsa.ActionRecord) { a.Facts = "  " }, func(s *dsa.Statement) {
			s.DecisionFacts = "The message was removed (Spam)."
			s.IncompatibleContentExplanation = s.DecisionFacts
		}},
		{"facts at the limit", func(a *dsa.ActionRecord) { a.Facts = long }, func(s *dsa.Statement) {
			s.DecisionFacts = long
			s.IncompatibleContentExplanation = strings.Repeat("Ω", 1999) + "…"
		}},
		{"content date unknown", func(a *dsa.ActionRecord) { a.ContentAt = time.Time{} }, func(s *dsa.Statement) { s.ContentDate = "2026-11-01" }},
		{"content date before 2000", func(a *dsa.ActionRecord) { a.ContentAt = time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC) },
			func(s *dsa.Statement) { s.ContentDate = "2026-11-01" }},
		{"content date after the decision", func(a *dsa.ActionRecord) { a.ContentAt = actedAt.Add(time.Hour) },
			func(s *dsa.Statement) { s.ContentDate = "2026-11-01" }},
		{"flagger identity only for trusted flaggers", func(a *dsa.ActionRecord) { a.SourceIdentity = "someone" }, func(s *dsa.Statement) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := message()
			tt.action(&a)
			want := removed()
			tt.want(&want)
			got, err := dsa.FromAction(a)
			if err != nil {
				t.Fatalf("FromAction: %v", err)
			}
			diffFields(t, got, want)
		})
	}
}

// diffFields reports each field of the JSON statements that differs.
func diffFields(t *testing.T, got, want dsa.Statement) {
	t.Helper()
	g, w := fields(t, got), fields(t, want)
	for k := range w {
		if _, ok := g[k]; !ok {
			g[k] = "(absent)"
		}
	}
	keys := make([]string, 0, len(g))
	for k := range g {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		wv, ok := w[k]
		if !ok {
			wv = "(absent)"
		}
		if gs, ws := fmt.Sprint(g[k]), fmt.Sprint(wv); gs != ws {
			t.Errorf("%s: got %s, want %s", k, gs, ws)
		}
	}
}

func fields(t *testing.T, s dsa.Statement) map[string]any {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestFromActionOutsideTheEEA(t *testing.T) {
	for name, a := range map[string]dsa.ActionRecord{
		"withheld in Russia and Turkey only": {ID: 1, Kind: moderation.Restrict, Territory: []string{"RU", "TR"}},
		"by country rules, none in the EEA":  {ID: 1, Kind: moderation.Restrict, Rules: []jurisdiction.Rule{{Scope: "US", Category: moderation.Spam}}},
		"by country rules, no rules at all":  {ID: 1, Kind: moderation.Restrict},
	} {
		t.Run(name, func(t *testing.T) {
			a.Category, a.Ground, a.Facts, a.At, a.Subject = moderation.Spam, moderation.GroundTerms, "x", actedAt, "message:1:1"
			if _, err := dsa.FromAction(a); !errors.Is(err, dsa.ErrOutsideEEA) {
				t.Errorf("FromAction: %v, want ErrOutsideEEA", err)
			}
		})
	}
}

func TestFromActionRefusesRecordsItCannotWrite(t *testing.T) {
	for name, change := range map[string]func(a *dsa.ActionRecord){
		"unknown kind":     func(a *dsa.ActionRecord) { a.Kind = "shadowban" },
		"unknown category": func(a *dsa.ActionRecord) { a.Category = "gossip" },
		"unknown ground":   func(a *dsa.ActionRecord) { a.Ground = "whim" },
		"no date":          func(a *dsa.ActionRecord) { a.At = time.Time{} },
		"before 2020": func(a *dsa.ActionRecord) {
			a.At, a.ContentAt = time.Date(2019, 5, 1, 0, 0, 0, 0, time.UTC), time.Time{}
		},
	} {
		t.Run(name, func(t *testing.T) {
			a := message()
			change(&a)
			if s, err := dsa.FromAction(a); err == nil || errors.Is(err, dsa.ErrOutsideEEA) {
				t.Errorf("FromAction = %+v, %v; want an error", s, err)
			}
		})
	}
}

// TestEveryActionHasAValidStatement: whatever moderation records, the
// statement passes the schema check (or there is none to submit).
func TestEveryActionHasAValidStatement(t *testing.T) {
	kinds := []moderation.ActionKind{moderation.RemoveMessage, moderation.RemoveMedia, moderation.TakeDown, moderation.Restrict,
		moderation.Label, moderation.Suspend, moderation.Ban}
	subjects := map[moderation.ActionKind]string{moderation.RemoveMedia: "media:3", moderation.TakeDown: "chat:2", moderation.Label: "chat:2",
		moderation.Suspend: "user:4", moderation.Ban: "user:4", moderation.RemoveMessage: "message:2:9", moderation.Restrict: "message:2:9"}
	sources := []moderation.Source{moderation.SourceUser, moderation.SourceFlagger, moderation.SourceNotice, moderation.SourceHashBank,
		moderation.SourceTextRule, moderation.SourceClassifier, moderation.SourceLegal, moderation.SourceOwn}
	territories := [][]string{nil, {"DE"}, {"EU"}, {"EEA", "US"}, {"RU"}}
	rules := []jurisdiction.Rule{{Scope: "EU", LegalRef: "Directive 2017/541"}, {Scope: "NO", LegalRef: "Straffeloven § 185"}}
	n := 0
	for _, kind := range kinds {
		for _, ground := range []moderation.Ground{moderation.GroundTerms, moderation.GroundIllegal} {
			for _, source := range sources {
				for _, cat := range moderation.Categories {
					for i, auto := range []bool{false, true} {
						for j, terr := range territories {
							if kind != moderation.Restrict && j > 0 {
								break
							}
							n++
							a := dsa.ActionRecord{ID: int64(n), Kind: kind, Subject: subjects[kind], Category: cat, Ground: ground,
								Facts: "facts", ContentType: []string{"text", "image", "video", "audio", "other"}[n%5], Source: source,
								SourceIdentity: "Flagger e.V.", AutomatedDetection: auto, AutomatedDecision: auto && i == 1,
								At: actedAt, ContentAt: postedAt, ChatKind: "group"}
							if ground == moderation.GroundIllegal {
								a.LegalReference = "a law"
							}
							if kind == moderation.Suspend {
								a.Until = actedAt.Add(time.Hour)
							}
							if n%3 == 0 {
								a.Reversed = actedAt.Add(time.Minute)
							}
							a.Territory = terr
							if terr == nil && n%2 == 0 {
								for _, r := range rules {
									r.Category = cat
									a.Rules = append(a.Rules, r)
								}
							}
							s, err := dsa.FromAction(a)
							outside := kind == moderation.Restrict && (slices.Equal(terr, []string{"RU"}) || terr == nil && a.Rules == nil)
							switch {
							case outside && !errors.Is(err, dsa.ErrOutsideEEA):
								t.Fatalf("%+v: got %v, want ErrOutsideEEA", a, err)
							case outside:
							case err != nil:
								t.Fatalf("%+v: %v", a, err)
							default:
								if err := dsa.Validate(s); err != nil {
									t.Fatalf("%+v: %v", a, err)
								}
							}
						}
					}
				}
			}
		}
	}
	t.Logf("%d actions", n)
}
