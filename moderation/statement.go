package moderation

import (
	"fmt"
	"strings"
	"time"
)

// Statement is a statement of reasons (DSA Art. 17) written out for the
// person affected, in their language: what was restricted and where, for
// how long, on what facts and ground, whether automation was used, and how
// to seek redress.
type Statement struct {
	Lang        string
	Restriction string // what was done, as a sentence
	Category    string
	Ground      string // the terms (with their clause) or the law it rests on
	// GroundURL links to the clause of the terms a decision on the terms
	// rests on; "" for the law, or when the terms have no address
	// (Config.TermsURL).
	GroundURL string
	// Facts are in the reader's language where a template or automated
	// means stated them, with what the moderator typed as typed.
	Facts        string
	Scope        string // where it applies
	Duration     string
	Automation   string // whether automated means detected or decided it
	Redress      string // how to appeal, and beyond
	Reversed     string // set once reversed, with why
	AppealUntil  time.Time
	AppealStatus string // set once appealed
}

// Languages are the languages statements are written in; others get English.
var Languages = []string{"en", "id", "ru", "ar"}

// statementText is the fixed wording of statements in one language.
type statementText struct {
	removeMessage, takedown, suspend, ban       string // take the excerpt with %s
	label                                       string // takes the chat word and the label
	removeMedia                                 string // takes the excerpt
	restrict                                    string // takes the excerpt
	only, byRules                               string // only takes the countries with %s
	terms, illegal                              string // illegal takes the reference with %s
	clause                                      string // takes the clause and its title
	worldwide, indefinite, until                string // until takes a date with %s
	detectedAuto, detectedHuman                 string
	decidedHuman, decidedAuto                   string
	redress                                     string // takes the deadline with %s
	reversed                                    string // takes a date with %s
	appealPending, appealUpheld, appealRejected string
}

var statementTexts = map[string]statementText{
	"en": {
		removeMessage: "Your message was removed for everyone: %s",
		takedown:      "Your %s was taken down, with everything in it.",
		suspend:       "Your account %s was suspended.",
		ban:           "Your account %s was banned.",
		label:         "Your %s was labelled: %s. Readers see this warning before its content.",
		removeMedia:   "Your file was removed everywhere it was posted, and cannot be uploaded again: %s",
		restrict:      "Your content is withheld in some countries, and available elsewhere: %s",
		only:          "Only in: %s.",
		byRules:       "In the countries whose law makes it illegal (the operator’s country rules).",
		terms:         "Incompatible with our terms of service.",
		clause:        "Terms of service § %s: %s.",
		illegal:       "Illegal content under %s.",
		worldwide:     "Worldwide.",
		indefinite:    "Indefinitely, unless reversed.",
		until:         "Until %s.",
		detectedAuto:  "It was detected by automated means.",
		detectedHuman: "It was reported or found by people, not by automated means.",
		decidedHuman:  "The decision was taken by a person, not by automated means.",
		decidedAuto:   "The decision was taken by automated means; an appeal is decided by a person.",
		redress:       "You can appeal this decision here until %s; a different person will review it. You may also turn to a certified out-of-court dispute settlement body, or to a court.",
		reversed:      "This decision was reversed on %s.",
		appealPending: "Your appeal is being reviewed.", appealUpheld: "Your appeal was upheld and the decision reversed.",
		appealRejected: "Your appeal was reviewed and the decision stands.",
	},
	"id": {
		removeMessage: "Pesan Anda dihapus untuk semua orang: %s",
		takedown:      "%s Anda diturunkan beserta seluruh isinya.",
		suspend:       "Akun Anda %s ditangguhkan.",
		ban:           "Akun Anda %s diblokir.",
		label:         "%s Anda diberi label: %s. Pembaca melihat peringatan ini sebelum isinya.",
		removeMedia:   "Berkas Anda dihapus dari semua tempat ia dikirim, dan tidak dapat diunggah lagi: %s",
		restrict:      "Konten Anda ditahan di beberapa negara dan tetap tersedia di tempat lain: %s",
		only:          "Hanya di: %s.",
		byRules:       "Di negara-negara yang hukumnya melarang konten ini (aturan negara dari operator).",
		terms:         "Tidak sesuai dengan ketentuan layanan kami.",
		clause:        "Ketentuan layanan § %s: %s.",
		illegal:       "Konten ilegal menurut %s.",
		worldwide:     "Di seluruh dunia.",
		indefinite:    "Tanpa batas waktu, kecuali dibatalkan.",
		until:         "Sampai %s.",
		detectedAuto:  "Terdeteksi secara otomatis.",
		detectedHuman: "Dilaporkan atau ditemukan oleh manusia, bukan secara otomatis.",
		decidedHuman:  "Keputusan diambil oleh manusia, bukan secara otomatis.",
		decidedAuto:   "Keputusan diambil secara otomatis; banding diputuskan oleh manusia.",
		redress:       "Anda dapat mengajukan banding atas keputusan ini di sini sampai %s; orang lain akan meninjaunya. Anda juga dapat menghubungi lembaga penyelesaian sengketa di luar pengadilan yang tersertifikasi, atau pengadilan.",
		reversed:      "Keputusan ini dibatalkan pada %s.",
		appealPending: "Banding Anda sedang ditinjau.", appealUpheld: "Banding Anda diterima dan keputusan dibatalkan.",
		appealRejected: "Banding Anda telah ditinjau dan keputusan tetap berlaku.",
	},
	"ru": {
		removeMessage: "Ваше сообщение удалено для всех: %s",
		takedown:      "Ваш %s заблокирован вместе со всем содержимым.",
		suspend:       "Ваш аккаунт %s приостановлен.",
		ban:           "Ваш аккаунт %s заблокирован.",
		label:         "Ваш %s помечен: %s. Читатели видят это предупреждение перед содержимым.",
		removeMedia:   "Ваш файл удалён везде, где он был опубликован, и не может быть загружен снова: %s",
		restrict:      "Ваш контент скрыт в некоторых странах и доступен в остальных: %s",
		only:          "Только в: %s.",
		byRules:       "В странах, законы которых запрещают такой контент (правила стран оператора).",
		terms:         "Нарушение условий использования сервиса.",
		clause:        "Условия использования § %s: %s.",
		illegal:       "Незаконный контент согласно %s.",
		worldwide:     "Во всём мире.",
		indefinite:    "Бессрочно, если решение не будет отменено.",
		until:         "До %s.",
		detectedAuto:  "Обнаружено автоматическими средствами.",
		detectedHuman: "Сообщено или обнаружено людьми, без автоматических средств.",
		decidedHuman:  "Решение принято человеком, а не автоматически.",
		decidedAuto:   "Решение принято автоматически; жалобу рассмотрит человек.",
		redress:       "Вы можете обжаловать это решение здесь до %s; его рассмотрит другой человек. Вы также можете обратиться в сертифицированный орган внесудебного урегулирования споров или в суд.",
		reversed:      "Решение отменено %s.",
		appealPending: "Ваша жалоба рассматривается.", appealUpheld: "Ваша жалоба удовлетворена, решение отменено.",
		appealRejected: "Ваша жалоба рассмотрена, решение остаётся в силе.",
	},
	"ar": {
		removeMessage: "أُزيلت رسالتك لدى الجميع: %s",
		takedown:      "أُزيل %s الخاص بك مع كل محتواه.",
		suspend:       "عُلّق حسابك %s.",
		ban:           "حُظر حسابك %s.",
		label:         "وُسم %s الخاص بك: %s. يرى القراء هذا التحذير قبل المحتوى.",
		removeMedia:   "أُزيل ملفك من كل مكان نُشر فيه، ولا يمكن رفعه مرة أخرى: %s",
		restrict:      "حُجب محتواك في بعض البلدان، وهو متاح في غيرها: %s",
		only:          "فقط في: %s.",
		byRules:       "في البلدان التي يجرّم قانونها هذا المحتوى (قواعد البلدان لدى المشغّل).",
		terms:         "مخالف لشروط الخدمة.",
		clause:        "شروط الخدمة § %s: %s.",
		illegal:       "محتوى غير قانوني بموجب %s.",
		worldwide:     "في جميع أنحاء العالم.",
		indefinite:    "إلى أجل غير مسمى، ما لم يُلغَ القرار.",
		until:         "حتى %s.",
		detectedAuto:  "اكتُشف بوسائل آلية.",
		detectedHuman: "أبلغ عنه أو وجده أشخاص، وليس بوسائل آلية.",
		decidedHuman:  "اتخذ القرار شخص، وليس بوسائل آلية.",
		decidedAuto:   "اتُّخذ القرار بوسائل آلية؛ ويبتّ شخص في الطعن.",
		redress:       "يمكنك الطعن في هذا القرار هنا حتى %s؛ وسيراجعه شخص آخر. ويمكنك أيضًا اللجوء إلى هيئة معتمدة لتسوية النزاعات خارج المحاكم، أو إلى المحكمة.",
		reversed:      "أُلغي هذا القرار في %s.",
		appealPending: "طعنك قيد المراجعة.", appealUpheld: "قُبل طعنك وأُلغي القرار.",
		appealRejected: "رُوجع طعنك وبقي القرار قائمًا.",
	},
}

// labelWords name the labels in each language.
var labelWords = map[string]map[string]string{
	"en": {"sensitive": "sensitive content", "graphic": "graphic violence", "misleading": "misleading", "scam_risk": "possible scam"},
	"id": {"sensitive": "konten sensitif", "graphic": "kekerasan grafis", "misleading": "menyesatkan", "scam_risk": "kemungkinan penipuan"},
	"ru": {"sensitive": "деликатный контент", "graphic": "сцены насилия", "misleading": "вводит в заблуждение", "scam_risk": "возможное мошенничество"},
	"ar": {"sensitive": "محتوى حساس", "graphic": "عنف صادم", "misleading": "مضلل", "scam_risk": "احتيال محتمل"},
}

// LabelName is a label's name in lang.
func LabelName(label, lang string) string {
	if w, ok := labelWords[PickLanguage(lang)][label]; ok {
		return w
	}
	return label
}

// chatWords name a group and a channel in each language.
var chatWords = map[string][2]string{
	"en": {"group", "channel"}, "id": {"Grup", "Kanal"}, "ru": {"группа", "канал"}, "ar": {"المجموعة", "القناة"},
}

// PickLanguage chooses the statement language from an Accept-Language
// header, a bare tag or a POSIX locale (ru_RU.UTF-8): the first of
// Languages it names, else English.
func PickLanguage(accept string) string {
	for _, part := range strings.Split(accept, ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		base := strings.ToLower(tag)
		if i := strings.IndexAny(base, "-_."); i >= 0 {
			base = base[:i]
		}
		if _, ok := statementTexts[base]; ok {
			return base
		}
	}
	return "en"
}

// TermsLink is the address of the clause of the terms that decisions of
// category cat on the terms rest on, or "" without Config.TermsURL.
func (s *Service) TermsLink(cat Category) string {
	if s.cfg.TermsURL == "" || cat.TermsAnchor() == "" {
		return ""
	}
	base, _, _ := strings.Cut(s.cfg.TermsURL, "#")
	return base + "#" + cat.TermsAnchor()
}

// Statement writes out the statement of reasons for an action in lang,
// with the appeal if there is one (nil if not).
func (s *Service) Statement(a Action, appeal *Appeal, lang string) Statement {
	lang = PickLanguage(lang)
	t := statementTexts[lang]
	date := func(at time.Time) string { return at.UTC().Format("2006-01-02 15:04 UTC") }
	st := Statement{Lang: lang, Category: a.Category.Label(lang), Facts: factsIn(a, lang), Scope: t.worldwide, Duration: t.indefinite,
		AppealUntil: s.AppealDeadline(a.At)}
	switch a.Kind {
	case RemoveMessage:
		st.Restriction = fmt.Sprintf(t.removeMessage, a.Excerpt)
	case TakeDown:
		w := chatWords[lang][1]
		if strings.HasPrefix(a.Excerpt, "group") {
			w = chatWords[lang][0]
		}
		st.Restriction = fmt.Sprintf(t.takedown, w) + " " + strings.TrimPrefix(strings.TrimPrefix(a.Excerpt, "group "), "channel ")
	case Suspend:
		st.Restriction = fmt.Sprintf(t.suspend, a.Excerpt)
	case Ban:
		st.Restriction = fmt.Sprintf(t.ban, a.Excerpt)
	case RemoveMedia:
		st.Restriction = fmt.Sprintf(t.removeMedia, a.Excerpt)
	case Restrict:
		st.Restriction = fmt.Sprintf(t.restrict, a.Excerpt)
		st.Scope = t.byRules
		if len(a.Territory) > 0 {
			st.Scope = fmt.Sprintf(t.only, strings.Join(a.Territory, ", "))
		}
	case Label:
		w := chatWords[lang][1]
		if strings.HasPrefix(a.Excerpt, "group") {
			w = chatWords[lang][0]
		}
		st.Restriction = fmt.Sprintf(t.label, w, LabelName(a.Label, lang))
	}
	if !a.Until.IsZero() {
		st.Duration = fmt.Sprintf(t.until, date(a.Until))
	}
	st.Ground = t.terms
	if a.Ground == GroundIllegal {
		st.Ground = fmt.Sprintf(t.illegal, a.LegalReference)
	} else if clause := a.Category.TermsClause(); clause != "" {
		// The contractual ground, named (DSA Art. 17(3)(e)).
		st.Ground += " " + fmt.Sprintf(t.clause, clause, a.Category.Label(lang))
		st.GroundURL = s.TermsLink(a.Category)
	}
	detected := t.detectedHuman
	if a.AutomatedDetection {
		detected = t.detectedAuto
	}
	decided := t.decidedHuman
	if a.AutomatedDecision {
		decided = t.decidedAuto
	}
	st.Automation = detected + " " + decided
	st.Redress = fmt.Sprintf(t.redress, date(st.AppealUntil))
	if !a.Reversed.IsZero() {
		st.Reversed = fmt.Sprintf(t.reversed, date(a.Reversed))
	}
	if appeal != nil {
		switch appeal.State {
		case AppealPending:
			st.AppealStatus = t.appealPending
		case AppealUpheld:
			st.AppealStatus = t.appealUpheld
		case AppealRejected:
			st.AppealStatus = t.appealRejected
		}
	}
	return st
}
