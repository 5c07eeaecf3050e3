package moderation

import (
	"strings"
	"time"
)

// Category is what a signal says is wrong with a subject: the report
// reasons of Telegram's clients and the categories of the EU DSA
// Transparency Database, merged into one list.
type Category string

// The categories, most severe first.
const (
	ChildAbuse      Category = "child_abuse"
	Terrorism       Category = "terrorism"
	Violence        Category = "violence"
	SelfHarm        Category = "self_harm"
	IllegalDrugs    Category = "illegal_drugs"
	UnsafeProducts  Category = "unsafe_products"
	HateSpeech      Category = "hate_speech"
	Harassment      Category = "harassment"
	Intimate        Category = "intimate_images" // shared without consent
	PersonalDetails Category = "personal_details"
	Scam            Category = "scam"
	Pornography     Category = "pornography"
	Elections       Category = "civic_discourse"
	AnimalWelfare   Category = "animal_welfare"
	Copyright       Category = "copyright"
	Fake            Category = "fake"
	ConsumerInfo    Category = "consumer_information"
	Spam            Category = "spam"
	OtherCategory   Category = "other"
)

// categoryInfo is what kurir knows of a category: how severe it is (the
// base of a case's priority), how soon a case must be decided, and how the
// DSA Transparency Database names it.
type categoryInfo struct {
	severity int
	sla      time.Duration
	dsa      string // STATEMENT_CATEGORY_*
	keyword  string // KEYWORD_*, if one fits
	// labels in the languages statements are written in
	labels map[string]string
}

var categories = map[Category]categoryInfo{
	ChildAbuse: {50, time.Hour, "STATEMENT_CATEGORY_PROTECTION_OF_MINORS", "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL",
		map[string]string{"en": "Child sexual abuse", "id": "Pelecehan seksual anak", "ru": "Сексуальное насилие над детьми", "ar": "الاعتداء الجنسي على الأطفال"}},
	Terrorism: {48, time.Hour, "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY", "KEYWORD_TERRORIST_CONTENT",
		map[string]string{"en": "Terrorism", "id": "Terorisme", "ru": "Терроризм", "ar": "الإرهاب"}},
	Violence: {36, 4 * time.Hour, "STATEMENT_CATEGORY_VIOLENCE", "",
		map[string]string{"en": "Violence", "id": "Kekerasan", "ru": "Насилие", "ar": "العنف"}},
	SelfHarm: {36, 4 * time.Hour, "STATEMENT_CATEGORY_SELF_HARM", "",
		map[string]string{"en": "Self-harm or suicide", "id": "Melukai diri atau bunuh diri", "ru": "Самоповреждение или суицид", "ar": "إيذاء النفس أو الانتحار"}},
	IllegalDrugs: {28, 24 * time.Hour, "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS", "",
		map[string]string{"en": "Illegal drugs", "id": "Narkoba ilegal", "ru": "Незаконные наркотики", "ar": "المخدرات غير المشروعة"}},
	UnsafeProducts: {26, 24 * time.Hour, "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS", "",
		map[string]string{"en": "Weapons or other prohibited goods", "id": "Senjata atau barang terlarang lainnya", "ru": "Оружие или другие запрещённые товары", "ar": "أسلحة أو سلع محظورة أخرى"}},
	HateSpeech: {28, 24 * time.Hour, "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH", "KEYWORD_HATE_SPEECH",
		map[string]string{"en": "Hate speech", "id": "Ujaran kebencian", "ru": "Язык вражды", "ar": "خطاب الكراهية"}},
	Harassment: {26, 24 * time.Hour, "STATEMENT_CATEGORY_CYBER_VIOLENCE", "",
		map[string]string{"en": "Harassment or bullying", "id": "Pelecehan atau perundungan", "ru": "Травля или преследование", "ar": "التحرش أو التنمر"}},
	Intimate: {40, 4 * time.Hour, "STATEMENT_CATEGORY_CYBER_VIOLENCE", "",
		map[string]string{"en": "Intimate images shared without consent", "id": "Gambar intim tanpa persetujuan", "ru": "Интимные изображения без согласия", "ar": "صور حميمة دون موافقة"}},
	PersonalDetails: {26, 24 * time.Hour, "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS", "",
		map[string]string{"en": "Personal details", "id": "Data pribadi", "ru": "Личные данные", "ar": "بيانات شخصية"}},
	Scam: {22, 24 * time.Hour, "STATEMENT_CATEGORY_SCAMS_AND_FRAUD", "",
		map[string]string{"en": "Scam or fraud", "id": "Penipuan", "ru": "Мошенничество", "ar": "احتيال"}},
	Pornography: {20, 48 * time.Hour, "STATEMENT_CATEGORY_OTHER_VIOLATION_TC", "",
		map[string]string{"en": "Pornography", "id": "Pornografi", "ru": "Порнография", "ar": "إباحية"}},
	Elections: {20, 24 * time.Hour, "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS", "",
		map[string]string{"en": "Election or civic manipulation", "id": "Manipulasi pemilu atau wacana publik", "ru": "Манипуляции выборами или общественным мнением", "ar": "التلاعب بالانتخابات أو الخطاب العام"}},
	AnimalWelfare: {18, 48 * time.Hour, "STATEMENT_CATEGORY_ANIMAL_WELFARE", "",
		map[string]string{"en": "Animal cruelty", "id": "Kekejaman terhadap hewan", "ru": "Жестокое обращение с животными", "ar": "القسوة على الحيوانات"}},
	Copyright: {12, 72 * time.Hour, "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS", "",
		map[string]string{"en": "Copyright", "id": "Hak cipta", "ru": "Авторские права", "ar": "حقوق النشر"}},
	Fake: {12, 72 * time.Hour, "STATEMENT_CATEGORY_SCAMS_AND_FRAUD", "",
		map[string]string{"en": "Fake account or impersonation", "id": "Akun palsu atau peniruan", "ru": "Фейк или выдача себя за другого", "ar": "حساب مزيف أو انتحال شخصية"}},
	ConsumerInfo: {10, 72 * time.Hour, "STATEMENT_CATEGORY_CONSUMER_INFORMATION", "",
		map[string]string{"en": "Misleading offers to consumers", "id": "Penawaran menyesatkan", "ru": "Вводящие в заблуждение предложения", "ar": "عروض مضللة للمستهلكين"}},
	Spam: {6, 72 * time.Hour, "STATEMENT_CATEGORY_OTHER_VIOLATION_TC", "",
		map[string]string{"en": "Spam", "id": "Spam", "ru": "Спам", "ar": "رسائل مزعجة"}},
	OtherCategory: {6, 72 * time.Hour, "STATEMENT_CATEGORY_OTHER_VIOLATION_TC", "",
		map[string]string{"en": "Other", "id": "Lainnya", "ru": "Другое", "ar": "أخرى"}},
}

// Categories lists every category, most severe first.
var Categories = []Category{ChildAbuse, Terrorism, Intimate, Violence, SelfHarm, IllegalDrugs, HateSpeech, UnsafeProducts,
	Harassment, PersonalDetails, Scam, Pornography, Elections, AnimalWelfare, Copyright, Fake, ConsumerInfo, Spam, OtherCategory}

// Valid reports whether c is one of Categories.
func (c Category) Valid() bool { _, ok := categories[c]; return ok }

// Severity is the category's weight in a case's priority (0..50).
func (c Category) Severity() int { return categories[c].severity }

// SLA is how soon after its first signal a case of this category is due.
func (c Category) SLA() time.Duration { return categories[c].sla }

// DSACategory is the category's name in the DSA Transparency Database.
func (c Category) DSACategory() string { return categories[c].dsa }

// DSAKeyword is the DSA category specification keyword that fits, or "".
func (c Category) DSAKeyword() string { return categories[c].keyword }

// termsClauses are the clauses of the terms of service each category's
// decisions on the terms rest on (DSA Art. 17(3)(e)): section 4, "What you
// may not share", one clause a category, in the order of Categories. The
// operator's terms (--terms-url) give each clause the anchor TermsAnchor
// names, so that a statement links to the clause itself.
var termsClauses = map[Category]string{
	ChildAbuse: "4.1", Terrorism: "4.2", Intimate: "4.3", Violence: "4.4", SelfHarm: "4.5", IllegalDrugs: "4.6", HateSpeech: "4.7",
	UnsafeProducts: "4.8", Harassment: "4.9", PersonalDetails: "4.10", Scam: "4.11", Pornography: "4.12", Elections: "4.13",
	AnimalWelfare: "4.14", Copyright: "4.15", Fake: "4.16", ConsumerInfo: "4.17", Spam: "4.18", OtherCategory: "4.19",
}

// TermsClause is the clause of the terms of service that decisions of
// this category on the terms rest on, such as "4.1"; "" for an unknown
// category.
func (c Category) TermsClause() string { return termsClauses[c] }

// TermsAnchor is the fragment that links to the category's clause in the
// terms, such as "clause-4.1"; "" for an unknown category.
func (c Category) TermsAnchor() string {
	if cl := termsClauses[c]; cl != "" {
		return "clause-" + cl
	}
	return ""
}

// Label is the category's name in lang (en, id, ru or ar; English otherwise).
func (c Category) Label(lang string) string {
	info, ok := categories[c]
	if !ok {
		return string(c)
	}
	if l, ok := info.labels[lang]; ok {
		return l
	}
	return info.labels["en"]
}

// moreSevere returns the more severe of a and b.
func moreSevere(a, b Category) Category {
	if b.Severity() > a.Severity() {
		return b
	}
	return a
}

// FromDetection maps a category named by a hash bank or text rule (such as
// CHILD_SAFETY or terrorism) to a moderation category.
func FromDetection(name string) Category {
	switch n := strings.ToLower(strings.TrimSpace(name)); n {
	case "child_safety", "csam", "csem", "child_abuse":
		return ChildAbuse
	case "terrorism", "terrorist", "tvec", "violent_extremism":
		return Terrorism
	case "ncii":
		return Intimate
	case "hate", "hate_speech":
		return HateSpeech
	case "drugs":
		return IllegalDrugs
	case "":
		return OtherCategory
	default:
		if c := Category(n); c.Valid() {
			return c
		}
		return OtherCategory
	}
}

// Source is where a signal came from.
type Source string

// The sources of signals, as the transparency report counts them.
const (
	SourceUser       Source = "user_report"
	SourceFlagger    Source = "trusted_flagger"
	SourceNotice     Source = "notice"     // DSA Art. 16, from someone without an account
	SourceHashBank   Source = "hash_bank"  // automated
	SourceTextRule   Source = "text_rule"  // automated
	SourceClassifier Source = "classifier" // automated
	SourceLegal      Source = "legal_order"
	SourceOwn        Source = "own_initiative"
)

// Automated reports whether signals from s come from automated detection.
func (s Source) Automated() bool {
	return s == SourceHashBank || s == SourceTextRule || s == SourceClassifier
}

// bonus is the priority a source adds: signals from those whose reports are
// known to be reliable go ahead of the queue.
func (s Source) bonus() int {
	switch s {
	case SourceLegal:
		return 20
	case SourceFlagger:
		return 15
	case SourceHashBank:
		return 10
	case SourceNotice, SourceClassifier, SourceTextRule:
		return 4
	}
	return 0
}

// DSASource is the source's source_type in the DSA Transparency Database.
func (s Source) DSASource() string {
	switch s {
	case SourceNotice, SourceUser:
		return "SOURCE_ARTICLE_16"
	case SourceFlagger:
		return "SOURCE_TRUSTED_FLAGGER"
	case SourceLegal:
		return "SOURCE_TYPE_OTHER_NOTIFICATION"
	}
	return "SOURCE_VOLUNTARY"
}
