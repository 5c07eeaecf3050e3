package dsa

import (
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Problem is one way a statement breaks the schema.
type Problem struct {
	Field   string // the API's name of the field at fault
	Message string
}

// Problems are every way a statement breaks the schema, in field order.
type Problems []Problem

// Error lists every problem with its field.
func (p Problems) Error() string {
	var b strings.Builder
	b.WriteString("statement breaks the DSA schema: ")
	for i, x := range p {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(x.Field + ": " + x.Message)
	}
	return b.String()
}

// ByField groups the problems by field, as the database's API reports them
// in a 422 answer.
func (p Problems) ByField() map[string][]string {
	out := map[string][]string{}
	for _, x := range p {
		out[x.Field] = append(out[x.Field], x.Message)
	}
	return out
}

// The schema's allowed values (DSA Transparency Database API, version 2).
var (
	visibilities = set("DECISION_VISIBILITY_CONTENT_REMOVED", "DECISION_VISIBILITY_CONTENT_DISABLED",
		"DECISION_VISIBILITY_CONTENT_DEMOTED", "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED",
		"DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED", "DECISION_VISIBILITY_CONTENT_LABELLED", "DECISION_VISIBILITY_OTHER")
	monetaries = set("DECISION_MONETARY_SUSPENSION", "DECISION_MONETARY_TERMINATION", "DECISION_MONETARY_OTHER")
	provisions = set("DECISION_PROVISION_PARTIAL_SUSPENSION", "DECISION_PROVISION_TOTAL_SUSPENSION",
		"DECISION_PROVISION_PARTIAL_TERMINATION", "DECISION_PROVISION_TOTAL_TERMINATION")
	accounts     = set("DECISION_ACCOUNT_SUSPENDED", "DECISION_ACCOUNT_TERMINATED")
	accountTypes = set("ACCOUNT_TYPE_BUSINESS", "ACCOUNT_TYPE_PRIVATE")
	grounds      = set("DECISION_GROUND_ILLEGAL_CONTENT", "DECISION_GROUND_INCOMPATIBLE_CONTENT")
	contentTypes = set("CONTENT_TYPE_APP", "CONTENT_TYPE_AUDIO", "CONTENT_TYPE_IMAGE", "CONTENT_TYPE_PRODUCT",
		"CONTENT_TYPE_SYNTHETIC_MEDIA", "CONTENT_TYPE_TEXT", "CONTENT_TYPE_VIDEO", "CONTENT_TYPE_OTHER")
	categories = set("STATEMENT_CATEGORY_ANIMAL_WELFARE", "STATEMENT_CATEGORY_CONSUMER_INFORMATION",
		"STATEMENT_CATEGORY_CYBER_VIOLENCE", "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN",
		"STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS", "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
		"STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS", "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
		"STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE", "STATEMENT_CATEGORY_OTHER_VIOLATION_TC", "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
		"STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY", "STATEMENT_CATEGORY_SCAMS_AND_FRAUD", "STATEMENT_CATEGORY_SELF_HARM",
		"STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS", "STATEMENT_CATEGORY_VIOLENCE")
	keywords = set(strings.Fields(`KEYWORD_ANIMAL_HARM KEYWORD_ADULT_SEXUAL_MATERIAL KEYWORD_AGE_SPECIFIC_RESTRICTIONS
		KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS KEYWORD_BIOMETRIC_DATA_BREACH KEYWORD_BULLYING_AGAINST_GIRLS
		KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE KEYWORD_CONTENT_PROMOTING_EATING_DISORDERS
		KEYWORD_COORDINATED_HARM KEYWORD_COPYRIGHT_INFRINGEMENT KEYWORD_CYBER_BULLYING_INTIMIDATION KEYWORD_CYBER_HARASSMENT
		KEYWORD_CYBER_HARASSMENT_AGAINST_WOMEN KEYWORD_CYBER_INCITEMENT KEYWORD_CYBER_STALKING KEYWORD_CYBER_STALKING_AGAINST_WOMEN
		KEYWORD_DATA_FALSIFICATION KEYWORD_DEFAMATION KEYWORD_DESIGN_INFRINGEMENT KEYWORD_DISCRIMINATION
		KEYWORD_MISINFORMATION_DISINFORMATION KEYWORD_FEMALE_GENDERED_DISINFORMATION KEYWORD_GEOGRAPHIC_INDICATIONS_INFRINGEMENT
		KEYWORD_GEOGRAPHICAL_REQUIREMENTS KEYWORD_GOODS_SERVICES_NOT_PERMITTED KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS
		KEYWORD_HATE_SPEECH KEYWORD_HIDDEN_ADVERTISEMENT KEYWORD_HUMAN_EXPLOITATION KEYWORD_HUMAN_TRAFFICKING
		KEYWORD_ILLEGAL_ORGANIZATIONS KEYWORD_IMPERSONATION_ACCOUNT_HIJACKING KEYWORD_INAUTHENTIC_ACCOUNTS
		KEYWORD_INAUTHENTIC_LISTINGS KEYWORD_INAUTHENTIC_USER_REVIEWS KEYWORD_INCITEMENT_AGAINST_WOMEN
		KEYWORD_INCITEMENT_VIOLENCE_HATRED KEYWORD_INSUFFICIENT_INFORMATION_ON_TRADERS KEYWORD_LANGUAGE_REQUIREMENTS
		KEYWORD_MISLEADING_INFO_CONSUMER_RIGHTS KEYWORD_MISLEADING_INFO_GOODS_SERVICES KEYWORD_MISSING_PROCESSING_GROUND
		KEYWORD_NON_CONSENSUAL_IMAGE_SHARING KEYWORD_NON_CONSENSUAL_IMAGE_SHARING_AGAINST_WOMEN
		KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN
		KEYWORD_NONCOMPLIANCE_PRICING KEYWORD_NUDITY KEYWORD_PATENT_INFRINGEMENT KEYWORD_PHISHING KEYWORD_PROHIBITED_PRODUCTS
		KEYWORD_PYRAMID_SCHEMES KEYWORD_RIGHT_TO_BE_FORGOTTEN KEYWORD_RISK_ENVIRONMENTAL_DAMAGE KEYWORD_RISK_PUBLIC_HEALTH
		KEYWORD_SELF_MUTILATION KEYWORD_STALKING KEYWORD_SUICIDE KEYWORD_TERRORIST_CONTENT KEYWORD_TRADE_SECRET_INFRINGEMENT
		KEYWORD_TRADEMARK_INFRINGEMENT KEYWORD_TRAFFICKING_WOMEN_GIRLS KEYWORD_UNLAWFUL_SALE_ANIMALS KEYWORD_UNSAFE_CHALLENGES
		KEYWORD_UNSAFE_PRODUCTS KEYWORD_VIOLATION_EU_LAW KEYWORD_VIOLATION_NATIONAL_LAW KEYWORD_OTHER`)...)
	sourceTypes = set("SOURCE_ARTICLE_16", "SOURCE_TRUSTED_FLAGGER", "SOURCE_TYPE_OTHER_NOTIFICATION", "SOURCE_VOLUNTARY")
	yesNos      = set("Yes", "No")
	automations = set("AUTOMATED_DECISION_FULLY", "AUTOMATED_DECISION_PARTIALLY", "AUTOMATED_DECISION_NOT_AUTOMATED")
	// eeaCountries are the territorial scopes the schema accepts: the EU-27
	// and Iceland, Liechtenstein and Norway.
	eeaCountries = set("AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IS", "IT",
		"LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK")
	// languages are the ISO 639-1 codes.
	languages = set(strings.Fields(strings.ToUpper(`aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce
		ch co cr cs cu cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy
		hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh
		mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se
		sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi
		yo za zh zu`))...)
	puidPattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
)

// The schema's date bounds.
const (
	minContent     = "2000-01-01"
	minApplication = "2020-01-01"
	maxDate        = "2038-01-01"
)

func set(values ...string) map[string]bool {
	m := make(map[string]bool, len(values))
	for _, v := range values {
		m[v] = true
	}
	return m
}

// Validate checks a statement against the DSA Transparency Database schema:
// required fields, allowed values, the fields each decision ground and each
// "other" choice requires, territorial scope codes, dates, lengths and the
// PUID. It returns nil or Problems, naming every field at fault.
//
// It is stricter than the database in one way: a field the database would
// silently drop (the explanations of the other decision ground, an "other"
// text without its "other" choice) is a problem, since sending it means the
// statement was not written as meant.
func Validate(s Statement) error {
	v := &validator{}

	// The decision: at least one of four kinds.
	if len(s.DecisionVisibility) == 0 && s.DecisionMonetary == "" && s.DecisionProvision == "" && s.DecisionAccount == "" {
		v.add("decision_visibility", "one of decision_visibility, decision_monetary, decision_provision and decision_account is required")
	}
	v.list("decision_visibility", s.DecisionVisibility, visibilities, false)
	v.other("decision_visibility_other", s.DecisionVisibilityOther, slices.Contains(s.DecisionVisibility, "DECISION_VISIBILITY_OTHER"),
		"DECISION_VISIBILITY_OTHER in decision_visibility", maxShort)
	v.oneOf("decision_monetary", s.DecisionMonetary, monetaries, false)
	v.other("decision_monetary_other", s.DecisionMonetaryOther, s.DecisionMonetary == "DECISION_MONETARY_OTHER",
		"decision_monetary DECISION_MONETARY_OTHER", maxShort)
	v.oneOf("decision_provision", s.DecisionProvision, provisions, false)
	v.oneOf("decision_account", s.DecisionAccount, accounts, false)
	v.oneOf("account_type", s.AccountType, accountTypes, false)

	// The ground, and what each ground requires.
	v.oneOf("decision_ground", s.DecisionGround, grounds, true)
	if s.DecisionGroundReferenceURL != "" {
		v.length("decision_ground_reference_url", s.DecisionGroundReferenceURL, maxShort)
		if u, err := url.Parse(s.DecisionGroundReferenceURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.add("decision_ground_reference_url", "must be an http or https URL")
		}
	}
	illegal := s.DecisionGround == "DECISION_GROUND_ILLEGAL_CONTENT"
	incompatible := s.DecisionGround == "DECISION_GROUND_INCOMPATIBLE_CONTENT"
	v.other("illegal_content_legal_ground", s.IllegalContentLegalGround, illegal, "decision_ground DECISION_GROUND_ILLEGAL_CONTENT", maxShort)
	v.other("illegal_content_explanation", s.IllegalContentExplanation, illegal, "decision_ground DECISION_GROUND_ILLEGAL_CONTENT", maxExplanation)
	v.other("incompatible_content_ground", s.IncompatibleContentGround, incompatible, "decision_ground DECISION_GROUND_INCOMPATIBLE_CONTENT", maxShort)
	v.other("incompatible_content_explanation", s.IncompatibleContentExplanation, incompatible,
		"decision_ground DECISION_GROUND_INCOMPATIBLE_CONTENT", maxExplanation)
	if s.IncompatibleContentIllegal != "" {
		v.oneOf("incompatible_content_illegal", s.IncompatibleContentIllegal, yesNos, false)
		if !incompatible {
			v.add("incompatible_content_illegal", "is only for decision_ground DECISION_GROUND_INCOMPATIBLE_CONTENT")
		}
	}

	// What it is about.
	v.oneOf("category", s.Category, categories, true)
	v.list("category_addition", s.CategoryAddition, categories, false)
	v.list("category_specification", s.CategorySpecification, keywords, false)
	if s.CategorySpecificationOther != "" { // optional, even with KEYWORD_OTHER
		v.other("category_specification_other", s.CategorySpecificationOther, slices.Contains(s.CategorySpecification, "KEYWORD_OTHER"),
			"KEYWORD_OTHER in category_specification", maxShort)
	}
	v.list("content_type", s.ContentType, contentTypes, true)
	v.other("content_type_other", s.ContentTypeOther, slices.Contains(s.ContentType, "CONTENT_TYPE_OTHER"),
		"CONTENT_TYPE_OTHER in content_type", maxShort)
	if s.ContentLanguage != "" && !languages[s.ContentLanguage] {
		v.add("content_language", "must be an upper-case ISO 639-1 code, such as EN")
	}

	// When, and where.
	v.date("content_date", s.ContentDate, true, minContent)
	v.date("application_date", s.ApplicationDate, true, minApplication)
	for _, end := range []struct{ field, value string }{
		{"end_date_account_restriction", s.EndDateAccountRestriction},
		{"end_date_monetary_restriction", s.EndDateMonetaryRestriction},
		{"end_date_service_restriction", s.EndDateServiceRestriction},
		{"end_date_visibility_restriction", s.EndDateVisibilityRestriction},
	} {
		if v.date(end.field, end.value, false, "") && validDate(s.ApplicationDate) && end.value < s.ApplicationDate {
			v.add(end.field, "must be on or after application_date")
		}
	}
	// The API documentation calls territorial_scope required.
	v.list("territorial_scope", s.TerritorialScope, eeaCountries, true)

	// Why, who found it, and how.
	v.required("decision_facts", s.DecisionFacts)
	v.length("decision_facts", s.DecisionFacts, maxFacts)
	v.oneOf("source_type", s.SourceType, sourceTypes, true)
	v.length("source_identity", s.SourceIdentity, maxShort)
	v.oneOf("automated_detection", s.AutomatedDetection, yesNos, true)
	v.oneOf("automated_decision", s.AutomatedDecision, automations, true)

	v.required("puid", s.PUID)
	v.length("puid", s.PUID, maxShort)
	if s.PUID != "" && !puidPattern.MatchString(s.PUID) {
		v.add("puid", "may contain only letters a-z and A-Z, digits, - and _")
	}
	if len(v.problems) == 0 {
		return nil
	}
	return v.problems
}

type validator struct{ problems Problems }

func (v *validator) add(field, msg string) { v.problems = append(v.problems, Problem{field, msg}) }

func (v *validator) required(field, value string) bool {
	if strings.TrimSpace(value) == "" {
		v.add(field, "is required")
		return false
	}
	return true
}

func (v *validator) length(field, value string, max int) {
	if n := utf8.RuneCountInString(value); n > max {
		v.add(field, "is "+strconv.Itoa(n)+" characters long; the limit is "+strconv.Itoa(max))
	}
	if !utf8.ValidString(value) {
		v.add(field, "is not valid UTF-8")
	}
}

// oneOf checks a single choice.
func (v *validator) oneOf(field, value string, allowed map[string]bool, required bool) {
	if value == "" {
		if required {
			v.add(field, "is required")
		}
		return
	}
	if !allowed[value] {
		v.add(field, "has the value "+quote(value)+", which is not allowed")
	}
}

// list checks a multiple choice: known values, none twice.
func (v *validator) list(field string, values []string, allowed map[string]bool, required bool) {
	if len(values) == 0 {
		if required {
			v.add(field, "is required (at least one value)")
		}
		return
	}
	for i, x := range values {
		if !allowed[x] {
			v.add(field, "has the value "+quote(x)+", which is not allowed")
		} else if slices.Contains(values[:i], x) {
			v.add(field, "has "+quote(x)+" twice")
		}
	}
}

// other checks a field that is required when, and only when, a choice
// (named by when) is made, and is at most max characters long.
func (v *validator) other(field, value string, wanted bool, when string, max int) {
	switch {
	case wanted:
		if v.required(field, value) {
			v.length(field, value, max)
		}
	case value != "":
		v.add(field, "is only for "+when+"; the database would drop it")
	}
}

// date checks a YYYY-MM-DD date within [min, maxDate] and reports whether
// it is a valid date that was given.
func (v *validator) date(field, value string, required bool, min string) bool {
	if value == "" {
		if required {
			v.add(field, "is required")
		}
		return false
	}
	if !validDate(value) {
		v.add(field, "must be a date written YYYY-MM-DD")
		return false
	}
	if min != "" && value < min {
		v.add(field, "must be on or after "+min)
	}
	if value > maxDate {
		v.add(field, "must be on or before "+maxDate)
	}
	return true
}

func validDate(s string) bool {
	if len(s) != len(time.DateOnly) {
		return false
	}
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

func quote(s string) string {
	if utf8.RuneCountInString(s) > 80 {
		s = string([]rune(s)[:80]) + "…"
	}
	return `"` + s + `"`
}
