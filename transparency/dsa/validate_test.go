package dsa_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"kurir/transparency/dsa"
)

// TestValidate breaks a valid statement one rule at a time: each break is
// reported against the field at fault, and nothing else is.
func TestValidate(t *testing.T) {
	if err := dsa.Validate(removed()); err != nil {
		t.Fatalf("the base statement: %v", err)
	}
	illegal := func(s *dsa.Statement) {
		s.DecisionGround = "DECISION_GROUND_ILLEGAL_CONTENT"
		s.IncompatibleContentGround, s.IncompatibleContentExplanation = "", ""
		s.IllegalContentLegalGround, s.IllegalContentExplanation = "§ 130 StGB", "It incites hatred."
	}
	tests := []struct {
		name   string
		change func(s *dsa.Statement)
		want   []string // the fields at fault; none for a valid change
	}{
		{"no decision at all", func(s *dsa.Statement) { s.DecisionVisibility = nil }, []string{"decision_visibility"}},
		{"an account decision alone", func(s *dsa.Statement) { s.DecisionVisibility, s.DecisionAccount = nil, "DECISION_ACCOUNT_SUSPENDED" }, nil},
		{"a monetary decision alone", func(s *dsa.Statement) { s.DecisionVisibility, s.DecisionMonetary = nil, "DECISION_MONETARY_SUSPENSION" }, nil},
		{"a provision decision alone", func(s *dsa.Statement) {
			s.DecisionVisibility, s.DecisionProvision = nil, "DECISION_PROVISION_TOTAL_SUSPENSION"
		}, nil},
		{"an unknown visibility", func(s *dsa.Statement) { s.DecisionVisibility = []string{"DECISION_VISIBILITY_HIDDEN"} }, []string{"decision_visibility"}},
		{"a visibility twice", func(s *dsa.Statement) {
			s.DecisionVisibility = []string{"DECISION_VISIBILITY_CONTENT_REMOVED", "DECISION_VISIBILITY_CONTENT_REMOVED"}
		}, []string{"decision_visibility"}},
		{"every visibility", func(s *dsa.Statement) {
			s.DecisionVisibility = []string{"DECISION_VISIBILITY_CONTENT_REMOVED", "DECISION_VISIBILITY_CONTENT_DISABLED",
				"DECISION_VISIBILITY_CONTENT_DEMOTED", "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED",
				"DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED", "DECISION_VISIBILITY_CONTENT_LABELLED", "DECISION_VISIBILITY_OTHER"}
			s.DecisionVisibilityOther = "shadow-limited"
		}, nil},
		{"other visibility unexplained", func(s *dsa.Statement) { s.DecisionVisibility = []string{"DECISION_VISIBILITY_OTHER"} },
			[]string{"decision_visibility_other"}},
		{"other visibility explained at length", func(s *dsa.Statement) {
			s.DecisionVisibility, s.DecisionVisibilityOther = []string{"DECISION_VISIBILITY_OTHER"}, strings.Repeat("x", 501)
		}, []string{"decision_visibility_other"}},
		{"an explanation of no other visibility", func(s *dsa.Statement) { s.DecisionVisibilityOther = "why" }, []string{"decision_visibility_other"}},
		{"other monetary unexplained", func(s *dsa.Statement) { s.DecisionMonetary = "DECISION_MONETARY_OTHER" }, []string{"decision_monetary_other"}},
		{"an unknown monetary decision", func(s *dsa.Statement) { s.DecisionMonetary = "DECISION_MONETARY_FINE" }, []string{"decision_monetary"}},
		{"an unknown provision", func(s *dsa.Statement) { s.DecisionProvision = "DECISION_PROVISION_PAUSE" }, []string{"decision_provision"}},
		{"an unknown account decision", func(s *dsa.Statement) { s.DecisionAccount = "DECISION_ACCOUNT_FROZEN" }, []string{"decision_account"}},
		{"an unknown account type", func(s *dsa.Statement) { s.AccountType = "ACCOUNT_TYPE_BOT" }, []string{"account_type"}},
		{"a private account", func(s *dsa.Statement) { s.AccountType = "ACCOUNT_TYPE_PRIVATE" }, nil},
		{"no ground", func(s *dsa.Statement) { s.DecisionGround = "" }, []string{"decision_ground", "incompatible_content_ground",
			"incompatible_content_explanation"}},
		{"an unknown ground", func(s *dsa.Statement) { s.DecisionGround = "DECISION_GROUND_VIBES" }, []string{"decision_ground",
			"incompatible_content_ground", "incompatible_content_explanation"}},
		{"illegal content", illegal, nil},
		{"illegal content without its law and explanation", func(s *dsa.Statement) {
			illegal(s)
			s.IllegalContentLegalGround, s.IllegalContentExplanation = "", " "
		}, []string{"illegal_content_legal_ground", "illegal_content_explanation"}},
		{"illegal content explained at length", func(s *dsa.Statement) {
			illegal(s)
			s.IllegalContentLegalGround, s.IllegalContentExplanation = strings.Repeat("§", 501), strings.Repeat("x", 2001)
		}, []string{"illegal_content_legal_ground", "illegal_content_explanation"}},
		{"illegal content with the terms' fields", func(s *dsa.Statement) {
			illegal(s)
			s.IncompatibleContentGround, s.IncompatibleContentIllegal = "terms", "Yes"
		}, []string{"incompatible_content_ground", "incompatible_content_illegal"}},
		{"incompatible content without its ground and explanation", func(s *dsa.Statement) {
			s.IncompatibleContentGround, s.IncompatibleContentExplanation = "", ""
		}, []string{"incompatible_content_ground", "incompatible_content_explanation"}},
		{"incompatible content explained at the limit", func(s *dsa.Statement) { s.IncompatibleContentExplanation = strings.Repeat("ж", 2000) }, nil},
		{"incompatible content explained past the limit", func(s *dsa.Statement) { s.IncompatibleContentExplanation = strings.Repeat("ж", 2001) },
			[]string{"incompatible_content_explanation"}},
		{"incompatible and illegal too", func(s *dsa.Statement) { s.IncompatibleContentIllegal = "Yes" }, nil},
		{"incompatible and maybe illegal", func(s *dsa.Statement) { s.IncompatibleContentIllegal = "Maybe" }, []string{"incompatible_content_illegal"}},
		{"incompatible content with the law's fields", func(s *dsa.Statement) { s.IllegalContentLegalGround = "§ 1" },
			[]string{"illegal_content_legal_ground"}},
		{"a reference URL", func(s *dsa.Statement) { s.DecisionGroundReferenceURL = "https://kurir.example/terms#spam" }, nil},
		{"a reference that is no URL", func(s *dsa.Statement) { s.DecisionGroundReferenceURL = "our terms" }, []string{"decision_ground_reference_url"}},
		{"a reference by FTP", func(s *dsa.Statement) { s.DecisionGroundReferenceURL = "ftp://kurir.example/terms" }, []string{"decision_ground_reference_url"}},
		{"no category", func(s *dsa.Statement) { s.Category = "" }, []string{"category"}},
		{"a version 1 category", func(s *dsa.Statement) { s.Category = "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT" }, []string{"category"}},
		{"additional categories", func(s *dsa.Statement) {
			s.CategoryAddition = []string{"STATEMENT_CATEGORY_SCAMS_AND_FRAUD", "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE"}
		}, nil},
		{"an unknown additional category", func(s *dsa.Statement) { s.CategoryAddition = []string{"STATEMENT_CATEGORY_SPAM"} }, []string{"category_addition"}},
		{"keywords", func(s *dsa.Statement) {
			s.CategorySpecification = []string{"KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL", "KEYWORD_TERRORIST_CONTENT", "KEYWORD_HATE_SPEECH", "KEYWORD_OTHER"}
		}, nil},
		{"an unknown keyword", func(s *dsa.Statement) { s.CategorySpecification = []string{"KEYWORD_SPAM"} }, []string{"category_specification"}},
		{"a version 1 keyword", func(s *dsa.Statement) { s.CategorySpecification = []string{"KEYWORD_DISINFORMATION"} }, []string{"category_specification"}},
		{"another keyword named", func(s *dsa.Statement) {
			s.CategorySpecification, s.CategorySpecificationOther = []string{"KEYWORD_OTHER"}, "chain letters"
		}, nil},
		{"another keyword without KEYWORD_OTHER", func(s *dsa.Statement) { s.CategorySpecificationOther = "chain letters" },
			[]string{"category_specification_other"}},
		{"no content type", func(s *dsa.Statement) { s.ContentType = nil }, []string{"content_type"}},
		{"an unknown content type", func(s *dsa.Statement) { s.ContentType = []string{"CONTENT_TYPE_STICKER"} }, []string{"content_type"}},
		{"other content unexplained", func(s *dsa.Statement) { s.ContentType = []string{"CONTENT_TYPE_OTHER"} }, []string{"content_type_other"}},
		{"an explanation of no other content", func(s *dsa.Statement) { s.ContentTypeOther = "sticker" }, []string{"content_type_other"}},
		{"a language", func(s *dsa.Statement) { s.ContentLanguage = "EN" }, nil},
		{"a lower-case language", func(s *dsa.Statement) { s.ContentLanguage = "en" }, []string{"content_language"}},
		{"an unknown language", func(s *dsa.Statement) { s.ContentLanguage = "XX" }, []string{"content_language"}},
		{"a three-letter language", func(s *dsa.Statement) { s.ContentLanguage = "ENG" }, []string{"content_language"}},
		{"no dates", func(s *dsa.Statement) { s.ContentDate, s.ApplicationDate = "", "" }, []string{"content_date", "application_date"}},
		{"dates without leading zeroes", func(s *dsa.Statement) { s.ContentDate, s.ApplicationDate = "2026-1-5", "2026-11-1" },
			[]string{"content_date", "application_date"}},
		{"impossible dates", func(s *dsa.Statement) { s.ContentDate, s.ApplicationDate = "2026-02-30", "2026-13-01" },
			[]string{"content_date", "application_date"}},
		{"dates with a time", func(s *dsa.Statement) { s.ApplicationDate = "2026-11-01T09:00:00Z" }, []string{"application_date"}},
		{"content from 1999", func(s *dsa.Statement) { s.ContentDate = "1999-12-31" }, []string{"content_date"}},
		{"content from 2000", func(s *dsa.Statement) { s.ContentDate = "2000-01-01" }, nil},
		{"a decision of 2019", func(s *dsa.Statement) { s.ContentDate, s.ApplicationDate = "2019-12-31", "2019-12-31" }, []string{"application_date"}},
		{"a decision after 2038", func(s *dsa.Statement) { s.ApplicationDate = "2038-01-02" }, []string{"application_date"}},
		{"end dates", func(s *dsa.Statement) {
			s.EndDateAccountRestriction, s.EndDateMonetaryRestriction = "2026-11-01", "2027-01-01"
			s.EndDateServiceRestriction, s.EndDateVisibilityRestriction = "2038-01-01", "2030-06-30"
		}, nil},
		{"end dates before the decision", func(s *dsa.Statement) {
			s.EndDateAccountRestriction, s.EndDateVisibilityRestriction = "2026-10-31", "2020-01-01"
		}, []string{"end_date_account_restriction", "end_date_visibility_restriction"}},
		{"bad end dates", func(s *dsa.Statement) {
			s.EndDateMonetaryRestriction, s.EndDateServiceRestriction = "tomorrow", "2038-01-02"
		}, []string{"end_date_monetary_restriction", "end_date_service_restriction"}},
		{"no territorial scope", func(s *dsa.Statement) { s.TerritorialScope = nil }, []string{"territorial_scope"}},
		{"a scope outside the EEA", func(s *dsa.Statement) { s.TerritorialScope = []string{"DE", "US"} }, []string{"territorial_scope"}},
		{"a lower-case scope", func(s *dsa.Statement) { s.TerritorialScope = []string{"de"} }, []string{"territorial_scope"}},
		{"a group as scope", func(s *dsa.Statement) { s.TerritorialScope = []string{"EU"} }, []string{"territorial_scope"}},
		{"Greece as EL", func(s *dsa.Statement) { s.TerritorialScope = []string{"EL"} }, []string{"territorial_scope"}},
		{"a country twice", func(s *dsa.Statement) { s.TerritorialScope = []string{"NO", "NO"} }, []string{"territorial_scope"}},
		{"no facts", func(s *dsa.Statement) { s.DecisionFacts = "\n" }, []string{"decision_facts"}},
		{"facts at the limit", func(s *dsa.Statement) { s.DecisionFacts = strings.Repeat("ü", 5000) }, nil},
		{"facts past the limit", func(s *dsa.Statement) { s.DecisionFacts = strings.Repeat("ü", 5001) }, []string{"decision_facts"}},
		{"facts that are not UTF-8", func(s *dsa.Statement) { s.DecisionFacts = "\xff\xfe" }, []string{"decision_facts"}},
		{"no source", func(s *dsa.Statement) { s.SourceType = "" }, []string{"source_type"}},
		{"a version 1 source", func(s *dsa.Statement) { s.SourceType = "SOURCE_OTHER" }, []string{"source_type"}},
		{"a source identity", func(s *dsa.Statement) { s.SourceType, s.SourceIdentity = "SOURCE_TRUSTED_FLAGGER", "INHOPE" }, nil},
		{"a long source identity", func(s *dsa.Statement) { s.SourceIdentity = strings.Repeat("s", 501) }, []string{"source_identity"}},
		{"detection in lower case", func(s *dsa.Statement) { s.AutomatedDetection = "yes" }, []string{"automated_detection"}},
		{"decision as yes or no", func(s *dsa.Statement) { s.AutomatedDecision = "Yes" }, []string{"automated_decision"}},
		{"partly automated", func(s *dsa.Statement) { s.AutomatedDecision = "AUTOMATED_DECISION_PARTIALLY" }, nil},
		{"no automation answers", func(s *dsa.Statement) { s.AutomatedDetection, s.AutomatedDecision = "", "" },
			[]string{"automated_detection", "automated_decision"}},
		{"no PUID", func(s *dsa.Statement) { s.PUID = "" }, []string{"puid"}},
		{"a PUID with a space", func(s *dsa.Statement) { s.PUID = "kurir action 42" }, []string{"puid"}},
		{"a PUID with a slash", func(s *dsa.Statement) { s.PUID = "kurir/42" }, []string{"puid"}},
		{"a PUID at the limit", func(s *dsa.Statement) { s.PUID = strings.Repeat("a_-9", 125) }, nil},
		{"a PUID past the limit", func(s *dsa.Statement) { s.PUID = strings.Repeat("a", 501) }, []string{"puid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := removed()
			tt.change(&s)
			err := dsa.Validate(s)
			got := faultFields(t, err)
			if !slices.Equal(got, tt.want) {
				t.Errorf("fields at fault: got %q, want %q (%v)", got, tt.want, err)
			}
		})
	}
}

// faultFields are the distinct fields err names, in order.
func faultFields(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var ps dsa.Problems
	if !errors.As(err, &ps) || len(ps) == 0 {
		t.Fatalf("Validate returned %T %v, want Problems", err, err)
	}
	var out []string
	for _, p := range ps {
		if p.Message == "" {
			t.Errorf("problem with %s has no message", p.Field)
		}
		if !strings.Contains(err.Error(), p.Field+": "+p.Message) {
			t.Errorf("the error %q does not list %s", err, p.Field)
		}
		if !slices.Contains(out, p.Field) {
			out = append(out, p.Field)
		}
	}
	return out
}

// TestValidateListsEveryRequiredField: an empty statement is refused for
// every required field at once.
func TestValidateListsEveryRequiredField(t *testing.T) {
	got := faultFields(t, dsa.Validate(dsa.Statement{}))
	want := []string{"decision_visibility", "decision_ground", "category", "content_type", "content_date", "application_date",
		"territorial_scope", "decision_facts", "source_type", "automated_detection", "automated_decision", "puid"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// FuzzValidate: any JSON a client could send is checked without a panic,
// every problem names a field, and a statement that passes still passes
// after a round trip through JSON.
func FuzzValidate(f *testing.F) {
	valid, _ := json.Marshal(removed())
	f.Add(valid)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"decision_visibility":["DECISION_VISIBILITY_OTHER"],"decision_ground":"DECISION_GROUND_ILLEGAL_CONTENT","content_type":["CONTENT_TYPE_OTHER"],"territorial_scope":["EU"],"content_date":"2026-02-30","puid":"a b"}`))
	f.Add([]byte(`{"application_date":"9999-99-99","end_date_account_restriction":"0000-00-00","decision_facts":"\u0000"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var s dsa.Statement
		if json.Unmarshal(data, &s) != nil {
			return
		}
		err := dsa.Validate(s)
		if err == nil {
			b, merr := json.Marshal(s)
			if merr != nil {
				t.Fatal(merr)
			}
			var again dsa.Statement
			if err := json.Unmarshal(b, &again); err != nil {
				t.Fatal(err)
			}
			if err := dsa.Validate(again); err != nil {
				t.Fatalf("valid before a round trip, not after: %v", err)
			}
			return
		}
		var ps dsa.Problems
		if !errors.As(err, &ps) || len(ps) == 0 {
			t.Fatalf("Validate returned %T %v", err, err)
		}
		for _, p := range ps {
			if p.Field == "" || p.Message == "" {
				t.Fatalf("a problem without a field or message: %+v", p)
			}
		}
	})
}
