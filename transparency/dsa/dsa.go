// Package dsa exports kurir's statements of reasons to the EU DSA
// Transparency Database (Regulation (EU) 2022/2065, Art. 24(5)): every
// moderation action, as moderation records it in mod_actions, becomes a
// Statement in the database's API schema (FromAction), is checked field by
// field against that schema (Validate), and is submitted in batches of at
// most 100 to the database's API with a bearer token (Exporter), with a
// record in dsa_submissions of what the database accepted, so that each
// statement is submitted once.
//
// The package reads the records moderation writes rather than calling into
// it, so the statements cannot drift from what moderators did.
package dsa

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"kurir/jurisdiction"
	"kurir/moderation"
)

// Statement is one statement of reasons in the DSA Transparency Database
// API schema (version 2, from July 2025). Field names and values are the
// API's own; optional fields left empty are omitted from the JSON.
type Statement struct {
	DecisionVisibility      []string `json:"decision_visibility,omitempty"`
	DecisionVisibilityOther string   `json:"decision_visibility_other,omitempty"`
	DecisionMonetary        string   `json:"decision_monetary,omitempty"`
	DecisionMonetaryOther   string   `json:"decision_monetary_other,omitempty"`
	DecisionProvision       string   `json:"decision_provision,omitempty"`
	DecisionAccount         string   `json:"decision_account,omitempty"`
	AccountType             string   `json:"account_type,omitempty"`

	DecisionGround             string `json:"decision_ground"`
	DecisionGroundReferenceURL string `json:"decision_ground_reference_url,omitempty"`
	IllegalContentLegalGround  string `json:"illegal_content_legal_ground,omitempty"`
	IllegalContentExplanation  string `json:"illegal_content_explanation,omitempty"`
	IncompatibleContentGround  string `json:"incompatible_content_ground,omitempty"`
	// IncompatibleContentExplanation explains why the content is
	// incompatible with the terms.
	IncompatibleContentExplanation string `json:"incompatible_content_explanation,omitempty"`
	IncompatibleContentIllegal     string `json:"incompatible_content_illegal,omitempty"` // Yes or No

	Category                   string   `json:"category"`
	CategoryAddition           []string `json:"category_addition,omitempty"`
	CategorySpecification      []string `json:"category_specification,omitempty"`
	CategorySpecificationOther string   `json:"category_specification_other,omitempty"`

	ContentType      []string `json:"content_type"`
	ContentTypeOther string   `json:"content_type_other,omitempty"`
	ContentLanguage  string   `json:"content_language,omitempty"` // ISO 639-1, upper case

	ContentDate                  string `json:"content_date"`     // YYYY-MM-DD
	ApplicationDate              string `json:"application_date"` // YYYY-MM-DD
	EndDateAccountRestriction    string `json:"end_date_account_restriction,omitempty"`
	EndDateMonetaryRestriction   string `json:"end_date_monetary_restriction,omitempty"`
	EndDateServiceRestriction    string `json:"end_date_service_restriction,omitempty"`
	EndDateVisibilityRestriction string `json:"end_date_visibility_restriction,omitempty"`

	TerritorialScope []string `json:"territorial_scope"`

	DecisionFacts      string `json:"decision_facts"`
	SourceType         string `json:"source_type"`
	SourceIdentity     string `json:"source_identity,omitempty"`
	AutomatedDetection string `json:"automated_detection"` // Yes or No
	AutomatedDecision  string `json:"automated_decision"`
	PUID               string `json:"puid"`
}

// ActionRecord is a moderation action as this package reads it from
// mod_actions, with what it needs from elsewhere: when the content was
// posted, who flagged it, and the country rules a restriction by rules
// follows.
type ActionRecord struct {
	ID      int64
	Kind    moderation.ActionKind
	Subject string // message:CHAT:SEQ, chat:ID, user:ID or media:ID
	// ChatKind is group or channel for a chat subject, if known.
	ChatKind string
	// Territory is where a restrict action applies: countries and groups
	// (EU, EEA); empty for a restriction by country rules. Every other
	// action applies worldwide.
	Territory          []string
	Category           moderation.Category
	Ground             moderation.Ground
	LegalReference     string
	Facts              string
	ContentType        string // text, image, video, audio or other
	Source             moderation.Source
	SourceIdentity     string // the trusted flagger's organisation, if one flagged it
	AutomatedDetection bool
	AutomatedDecision  bool
	Until              time.Time // end of a suspension; zero: indefinite
	At                 time.Time // when the decision took effect
	Reversed           time.Time // zero unless reversed
	// ContentAt is when the content was posted (a message, a file) or
	// created (a group, channel or account); zero if unknown.
	ContentAt time.Time
	// Rules are the country rules for Category, for a restriction by
	// country rules: it applies where they make the category illegal.
	Rules []jurisdiction.Rule
	// TermsURL is the address of the terms of service (serve's
	// --terms-url): a decision on the terms links to its category's clause
	// there, as the user's statement does; "" links nothing.
	TermsURL string
}

// PUID is the platform's unique identifier of the statement for an action.
func PUID(actionID int64) string { return fmt.Sprintf("kurir-action-%d", actionID) }

// ErrOutsideEEA is returned by FromAction for an action that restricts
// nothing in the EU or EEA, such as content withheld only in a country
// outside it: the DSA Transparency Database takes territorial scopes in the
// EEA only, so there is no statement to submit.
var ErrOutsideEEA = errors.New("the action applies nowhere in the EEA")

// Limits of the schema's free-text fields, in characters.
const (
	maxFacts       = 5000
	maxExplanation = 2000
	maxShort       = 500
)

// termsGround names the contractual ground of a decision on the terms
// (DSA Art. 17(3)(e)): the clause of the terms its category falls under,
// as the affected user's statement of reasons names it.
func termsGround(c moderation.Category) string {
	if clause := c.TermsClause(); clause != "" {
		return fmt.Sprintf("kurir terms of service § %s: %s", clause, c.Label("en"))
	}
	return "kurir terms of service: " + c.Label("en")
}

// termsLink is the address of category c's clause in the terms at
// termsURL (moderation's anchor, as Service.TermsLink makes for the user's
// statement), or "" if either is unknown.
func termsLink(termsURL string, c moderation.Category) string {
	base, _, _ := strings.Cut(strings.TrimSpace(termsURL), "#")
	if base == "" || c.TermsAnchor() == "" {
		return ""
	}
	return base + "#" + c.TermsAnchor()
}

// FromAction writes out the statement of reasons for an action. Its
// output always passes Validate; an action it cannot express gets an
// error: ErrOutsideEEA, or one naming what is wrong with the record.
//
// The mapping: removals (of a message, a file, or a group or channel taken
// down) are DECISION_VISIBILITY_CONTENT_REMOVED, and a takedown is also
// DECISION_PROVISION_PARTIAL_TERMINATION (the service ends for that group
// or channel, not for its owner's account); a restriction in some
// countries is DECISION_VISIBILITY_CONTENT_DISABLED with those countries
// as the territorial scope; a label is DECISION_VISIBILITY_CONTENT_LABELLED;
// a suspension is DECISION_ACCOUNT_SUSPENDED until its end, a ban
// DECISION_ACCOUNT_TERMINATED. A reversed action keeps its statement, with
// the reversal's date as the end of the restriction.
func FromAction(a ActionRecord) (Statement, error) {
	if a.ID <= 0 {
		return Statement{}, fmt.Errorf("action %d: no ID", a.ID)
	}
	category := a.Category.DSACategory()
	if category == "" {
		return Statement{}, fmt.Errorf("action %d: category %q has no DSA category", a.ID, a.Category)
	}
	if a.At.IsZero() {
		return Statement{}, fmt.Errorf("action %d: no date", a.ID)
	}
	s := Statement{
		Category:           category,
		ApplicationDate:    day(a.At),
		ContentDate:        day(a.At),
		DecisionFacts:      clip(strings.TrimSpace(a.Facts), maxFacts),
		SourceType:         a.Source.DSASource(),
		AutomatedDetection: yesNo(a.AutomatedDetection),
		AutomatedDecision:  "AUTOMATED_DECISION_NOT_AUTOMATED",
		PUID:               PUID(a.ID),
		TerritorialScope:   eea(),
	}
	if kw := a.Category.DSAKeyword(); kw != "" {
		s.CategorySpecification = []string{kw}
	}
	if a.AutomatedDecision {
		s.AutomatedDecision = "AUTOMATED_DECISION_FULLY"
	}
	if !a.ContentAt.IsZero() && day(a.ContentAt) >= minContent && !a.ContentAt.After(a.At) {
		s.ContentDate = day(a.ContentAt)
	}
	if s.SourceType == "SOURCE_TRUSTED_FLAGGER" {
		s.SourceIdentity = clip(strings.TrimSpace(a.SourceIdentity), maxShort)
	}

	// What was done, and until when. A reversal ends a restriction early.
	ended := a.Reversed
	switch a.Kind {
	case moderation.RemoveMessage, moderation.RemoveMedia:
		s.DecisionVisibility = []string{"DECISION_VISIBILITY_CONTENT_REMOVED"}
		s.EndDateVisibilityRestriction = endDay(ended)
	case moderation.TakeDown:
		s.DecisionVisibility = []string{"DECISION_VISIBILITY_CONTENT_REMOVED"}
		s.DecisionProvision = "DECISION_PROVISION_PARTIAL_TERMINATION"
		s.EndDateVisibilityRestriction = endDay(ended)
		s.EndDateServiceRestriction = endDay(ended)
	case moderation.Restrict:
		s.DecisionVisibility = []string{"DECISION_VISIBILITY_CONTENT_DISABLED"}
		s.EndDateVisibilityRestriction = endDay(ended)
		s.TerritorialScope = restrictScope(a)
		if len(s.TerritorialScope) == 0 {
			return Statement{}, fmt.Errorf("action %d: %w", a.ID, ErrOutsideEEA)
		}
	case moderation.Label:
		s.DecisionVisibility = []string{"DECISION_VISIBILITY_CONTENT_LABELLED"}
		s.EndDateVisibilityRestriction = endDay(ended)
	case moderation.Suspend:
		s.DecisionAccount = "DECISION_ACCOUNT_SUSPENDED"
		end := a.Until
		if !ended.IsZero() && (end.IsZero() || ended.Before(end)) {
			end = ended
		}
		s.EndDateAccountRestriction = endDay(end)
	case moderation.Ban:
		s.DecisionAccount = "DECISION_ACCOUNT_TERMINATED"
		s.EndDateAccountRestriction = endDay(ended)
	default:
		return Statement{}, fmt.Errorf("action %d: unknown kind %q", a.ID, a.Kind)
	}
	// An end before the decision cannot be: the record is inconsistent, and
	// the schema refuses it, so it is left indefinite.
	for _, end := range []*string{&s.EndDateAccountRestriction, &s.EndDateServiceRestriction, &s.EndDateVisibilityRestriction} {
		if *end != "" && *end < s.ApplicationDate {
			*end = ""
		}
	}

	// What it was done to.
	switch kind, _, _ := strings.Cut(a.Subject, ":"); kind {
	case string(moderation.SubjectUser):
		s.ContentType, s.ContentTypeOther = []string{"CONTENT_TYPE_OTHER"}, "account"
	case string(moderation.SubjectChat):
		s.ContentType, s.ContentTypeOther = []string{"CONTENT_TYPE_OTHER"}, "group or channel"
		if a.ChatKind == "group" || a.ChatKind == "channel" {
			s.ContentTypeOther = a.ChatKind
		}
	default:
		switch a.ContentType {
		case "text":
			s.ContentType = []string{"CONTENT_TYPE_TEXT"}
		case "image":
			s.ContentType = []string{"CONTENT_TYPE_IMAGE"}
		case "video":
			s.ContentType = []string{"CONTENT_TYPE_VIDEO"}
		case "audio":
			s.ContentType = []string{"CONTENT_TYPE_AUDIO"}
		default:
			s.ContentType, s.ContentTypeOther = []string{"CONTENT_TYPE_OTHER"}, "file"
		}
	}

	if s.DecisionFacts == "" {
		s.DecisionFacts = fmt.Sprintf("%s (%s).", kindFacts[a.Kind], a.Category.Label("en"))
	}
	explanation := clip(s.DecisionFacts, maxExplanation)
	switch a.Ground {
	case moderation.GroundIllegal:
		s.DecisionGround = "DECISION_GROUND_ILLEGAL_CONTENT"
		s.IllegalContentLegalGround = legalGround(a)
		s.IllegalContentExplanation = explanation
	case moderation.GroundTerms, "":
		s.DecisionGround = "DECISION_GROUND_INCOMPATIBLE_CONTENT"
		s.IncompatibleContentGround = clip(termsGround(a.Category), maxShort)
		s.IncompatibleContentExplanation = explanation
		s.DecisionGroundReferenceURL = termsLink(a.TermsURL, a.Category)
	default:
		return Statement{}, fmt.Errorf("action %d: unknown ground %q", a.ID, a.Ground)
	}
	if err := Validate(s); err != nil {
		return Statement{}, fmt.Errorf("action %d: %w", a.ID, err)
	}
	return s, nil
}

// kindFacts say what each kind of action did, for a record without facts
// (a removal order may come without them).
var kindFacts = map[moderation.ActionKind]string{
	moderation.RemoveMessage: "The message was removed",
	moderation.RemoveMedia:   "The file was removed everywhere it was posted",
	moderation.TakeDown:      "The group or channel was taken down",
	moderation.Restrict:      "The content was withheld in some countries",
	moderation.Label:         "The group or channel was labelled",
	moderation.Suspend:       "The account was suspended",
	moderation.Ban:           "The account was banned",
}

// legalGround is the law an illegal-content decision rests on. A
// restriction by country rules rests on the rule of each EEA country in
// its scope.
func legalGround(a ActionRecord) string {
	if a.Kind == moderation.Restrict && len(a.Territory) == 0 {
		var refs []string
		for _, r := range a.Rules {
			if r.Category != a.Category || len(inEEA([]string{r.Scope})) == 0 {
				continue
			}
			if ref := r.Scope + ": " + strings.TrimSpace(r.LegalRef); !slices.Contains(refs, ref) {
				refs = append(refs, ref)
			}
		}
		if len(refs) > 0 {
			return clip(strings.Join(refs, "; "), maxShort)
		}
	}
	if ref := strings.TrimSpace(a.LegalReference); ref != "" {
		return clip(ref, maxShort)
	}
	return "The law was not recorded with the decision."
}

// restrictScope is the territorial scope of a restrict action: the EEA
// countries it names, groups expanded; for one by country rules, the EEA
// countries whose rules make its category illegal.
func restrictScope(a ActionRecord) []string {
	if len(a.Territory) > 0 {
		return inEEA(a.Territory)
	}
	var scopes []string
	for _, r := range a.Rules {
		if r.Category == a.Category {
			scopes = append(scopes, r.Scope)
		}
	}
	return inEEA(scopes)
}

// inEEA expands the groups among codes and keeps the EEA countries, sorted
// and without repeats.
func inEEA(codes []string) []string {
	var out []string
	for _, c := range codes {
		c = strings.ToUpper(strings.TrimSpace(c))
		members, group := jurisdiction.Groups[c]
		if !group {
			members = []string{c}
		}
		for _, m := range members {
			if eeaCountries[m] && !slices.Contains(out, m) {
				out = append(out, m)
			}
		}
	}
	slices.Sort(out)
	return out
}

// eea returns every EEA country, sorted: the scope of a worldwide action
// as the database sees it.
func eea() []string {
	out := slices.Clone(jurisdiction.Groups["EEA"])
	slices.Sort(out)
	return out
}

func day(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// endDay is the end date of a restriction that ends at t: none for the
// zero time or beyond the schema's last date (indefinite, as near as the
// schema can say).
func endDay(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := day(t)
	if d > maxDate {
		return ""
	}
	return d
}

func yesNo(b bool) string {
	if b {
		return "Yes"
	}
	return "No"
}

// clip cuts s to at most max characters, marking a cut with an ellipsis.
func clip(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:max-1])) + "…"
}
