package moderation

import (
	"encoding/json"
	"sort"
	"strings"

	"kurir"
)

// Reason templates: the facts a moderator starts from in the console, and
// those automated means write, kept as a key with parameters so that each
// reader gets them in their own language (the console shows the same
// wording to moderators in theirs). What a moderator types stays as typed.

// TemplateAutomatedClassifier and TemplateAutomatedClassifierMessage are
// the facts of a file or a message an automated classifier removed; their
// parameter "rules" names what matched.
const (
	TemplateAutomatedClassifier        = "automated_classifier"
	TemplateAutomatedClassifierMessage = "automated_classifier_message"
)

// templateTexts are the templates' wording by language, then key. A
// parameter is written {name}; one left empty drops with the parenthesis
// around it (see templateText).
var templateTexts = map[string]map[string]string{
	"en": {
		"csam":                             "The content shows the sexual abuse of a child. Such material is illegal; it was removed and reported to the competent authorities.",
		"terror":                           "The content promotes a terrorist organisation and incites violence.",
		"violence":                         "The content threatens or incites violence against people.",
		"gore":                             "The content shows graphic violence for shock value, without news or documentary context.",
		"self_harm":                        "The content encourages suicide or self-harm.",
		"drugs":                            "The content offers illegal drugs for sale.",
		"weapons":                          "The content offers weapons or other prohibited goods for sale.",
		"hate":                             "The content attacks people for their ethnicity, religion, nationality, sex, sexual orientation or disability.",
		"harassment":                       "The content targets a person with repeated insults and threats.",
		"intimate":                         "The content shares intimate images of a person without their consent.",
		"doxxing":                          "The content publishes a person's private details (address, phone number or documents) without their consent.",
		"scam":                             "The content tries to obtain money or personal data by deceit, such as a fake giveaway or investment scheme.",
		"porn":                             "The content is pornographic and was posted where the terms of service do not allow it.",
		"copyright":                        "The rights holder notified us that this content copies their work without permission.",
		"impersonation":                    "The account pretends to be another person or organisation to mislead others.",
		"spam":                             "The chat sends large numbers of unsolicited, repetitive advertising messages.",
		"terms":                            "The content breaks the terms of service.",
		TemplateAutomatedClassifier:        "An automated classifier judged the file to be prohibited ({rules}). No person decided this; appeal it to have a moderator review it.",
		TemplateAutomatedClassifierMessage: "An automated classifier judged the message to be prohibited ({rules}). No person decided this; appeal it to have a moderator review it.",
	},
	"id": {
		"csam":                             "Konten ini menampilkan pelecehan seksual terhadap anak. Materi seperti ini ilegal; konten telah dihapus dan dilaporkan kepada pihak berwenang.",
		"terror":                           "Konten ini mempromosikan organisasi teroris dan menghasut kekerasan.",
		"violence":                         "Konten ini mengancam atau menghasut kekerasan terhadap orang.",
		"gore":                             "Konten ini menampilkan kekerasan grafis untuk mengejutkan, tanpa konteks berita atau dokumenter.",
		"self_harm":                        "Konten ini mendorong bunuh diri atau tindakan melukai diri.",
		"drugs":                            "Konten ini menawarkan narkoba ilegal untuk dijual.",
		"weapons":                          "Konten ini menawarkan senjata atau barang terlarang lainnya untuk dijual.",
		"hate":                             "Konten ini menyerang orang karena suku, agama, kebangsaan, jenis kelamin, orientasi seksual, atau disabilitas mereka.",
		"harassment":                       "Konten ini menyasar seseorang dengan hinaan dan ancaman berulang.",
		"intimate":                         "Konten ini menyebarkan gambar intim seseorang tanpa persetujuannya.",
		"doxxing":                          "Konten ini menyebarkan data pribadi seseorang (alamat, nomor telepon, atau dokumen) tanpa persetujuannya.",
		"scam":                             "Konten ini mencoba mendapatkan uang atau data pribadi dengan tipu daya, seperti hadiah palsu atau skema investasi.",
		"porn":                             "Konten ini bersifat pornografi dan diunggah di tempat yang tidak diizinkan oleh ketentuan layanan.",
		"copyright":                        "Pemegang hak memberi tahu kami bahwa konten ini menyalin karyanya tanpa izin.",
		"impersonation":                    "Akun ini menyamar sebagai orang atau organisasi lain untuk menyesatkan orang.",
		"spam":                             "Obrolan ini mengirim banyak pesan iklan berulang yang tidak diminta.",
		"terms":                            "Konten ini melanggar ketentuan layanan.",
		TemplateAutomatedClassifier:        "Pengklasifikasi otomatis menilai berkas ini terlarang ({rules}). Tidak ada manusia yang memutuskan ini; ajukan banding agar moderator meninjaunya.",
		TemplateAutomatedClassifierMessage: "Pengklasifikasi otomatis menilai pesan ini terlarang ({rules}). Tidak ada manusia yang memutuskan ini; ajukan banding agar moderator meninjaunya.",
	},
	"ru": {
		"csam":                             "Контент изображает сексуальное насилие над ребёнком. Такие материалы незаконны; контент удалён, о нём сообщено компетентным органам.",
		"terror":                           "Контент пропагандирует террористическую организацию и призывает к насилию.",
		"violence":                         "Контент содержит угрозы или призывы к насилию над людьми.",
		"gore":                             "Контент показывает жестокое насилие ради шока, вне новостного или документального контекста.",
		"self_harm":                        "Контент побуждает к самоубийству или самоповреждению.",
		"drugs":                            "Контент предлагает к продаже запрещённые наркотики.",
		"weapons":                          "Контент предлагает к продаже оружие или другие запрещённые товары.",
		"hate":                             "Контент нападает на людей из-за их этнического происхождения, религии, национальности, пола, сексуальной ориентации или инвалидности.",
		"harassment":                       "Контент направлен против человека: повторяющиеся оскорбления и угрозы.",
		"intimate":                         "Контент распространяет интимные изображения человека без его согласия.",
		"doxxing":                          "Контент раскрывает личные данные человека (адрес, телефон или документы) без его согласия.",
		"scam":                             "Контент обманом выманивает деньги или личные данные, например под видом розыгрыша или инвестиций.",
		"porn":                             "Контент порнографический и опубликован там, где правила сервиса этого не допускают.",
		"copyright":                        "Правообладатель сообщил нам, что этот контент копирует его работу без разрешения.",
		"impersonation":                    "Аккаунт выдаёт себя за другого человека или организацию, чтобы ввести людей в заблуждение.",
		"spam":                             "Чат рассылает большое количество нежелательной повторяющейся рекламы.",
		"terms":                            "Контент нарушает правила сервиса.",
		TemplateAutomatedClassifier:        "Автоматический классификатор признал файл запрещённым ({rules}). Решение не принимал человек; обжалуйте его, и его рассмотрит модератор.",
		TemplateAutomatedClassifierMessage: "Автоматический классификатор признал сообщение запрещённым ({rules}). Решение не принимал человек; обжалуйте его, и его рассмотрит модератор.",
	},
	"ar": {
		"csam":                             "يعرض المحتوى اعتداءً جنسيًا على طفل. هذه المواد غير قانونية؛ أُزيل المحتوى وأُبلغت السلطات المختصة.",
		"terror":                           "يروّج المحتوى لمنظمة إرهابية ويحرّض على العنف.",
		"violence":                         "يهدد المحتوى بالعنف ضد الأشخاص أو يحرّض عليه.",
		"gore":                             "يعرض المحتوى عنفًا صادمًا بقصد الإثارة، دون سياق إخباري أو وثائقي.",
		"self_harm":                        "يشجع المحتوى على الانتحار أو إيذاء النفس.",
		"drugs":                            "يعرض المحتوى مخدرات غير مشروعة للبيع.",
		"weapons":                          "يعرض المحتوى أسلحة أو سلعًا محظورة أخرى للبيع.",
		"hate":                             "يهاجم المحتوى أشخاصًا بسبب أصلهم العرقي أو دينهم أو جنسيتهم أو جنسهم أو ميولهم الجنسية أو إعاقتهم.",
		"harassment":                       "يستهدف المحتوى شخصًا بإهانات وتهديدات متكررة.",
		"intimate":                         "ينشر المحتوى صورًا حميمة لشخص دون موافقته.",
		"doxxing":                          "ينشر المحتوى بيانات شخصية لشخص ما (العنوان أو رقم الهاتف أو الوثائق) دون موافقته.",
		"scam":                             "يحاول المحتوى الحصول على المال أو البيانات الشخصية بالخداع، مثل مسابقة وهمية أو مخطط استثمار.",
		"porn":                             "المحتوى إباحي ونُشر في مكان لا تسمح به شروط الخدمة.",
		"copyright":                        "أبلغنا صاحب الحقوق أن هذا المحتوى ينسخ عمله دون إذن.",
		"impersonation":                    "ينتحل الحساب صفة شخص أو جهة أخرى لتضليل الآخرين.",
		"spam":                             "ترسل المحادثة أعدادًا كبيرة من الرسائل الإعلانية المتكررة غير المرغوب فيها.",
		"terms":                            "يخالف المحتوى شروط الخدمة.",
		TemplateAutomatedClassifier:        "قرّر مصنِّف آلي أن الملف محظور ({rules}). لم يتخذ أي شخص هذا القرار؛ اطعن فيه ليراجعه مشرف.",
		TemplateAutomatedClassifierMessage: "قرّر مصنِّف آلي أن الرسالة محظورة ({rules}). لم يتخذ أي شخص هذا القرار؛ اطعن فيه ليراجعه مشرف.",
	},
}

// ValidTemplate reports whether key names a reason template, a
// moderator's or automated means'.
func ValidTemplate(key string) bool {
	_, ok := templateTexts["en"][key]
	return ok
}

// automatedTemplate reports whether key is written by automated means only:
// it says no person decided.
func automatedTemplate(key string) bool {
	return key == TemplateAutomatedClassifier || key == TemplateAutomatedClassifierMessage
}

// Templates lists the keys of the reason templates a moderator may
// choose (ActParams.Template), sorted.
func Templates() []string {
	out := make([]string, 0, len(templateTexts["en"]))
	for k := range templateTexts["en"] {
		if !automatedTemplate(k) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// TemplateText is template key in lang (English if lang has no wording),
// its parameters filled in from args. A parameter with no value drops
// with the " (…)" around it.
func TemplateText(key, lang string, args map[string]string) string {
	text, ok := templateTexts[PickLanguage(lang)][key]
	if !ok {
		text = templateTexts["en"][key]
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(text, '{')
		if i < 0 {
			break
		}
		j := strings.IndexByte(text[i:], '}')
		if j < 0 {
			break
		}
		head, name, tail := text[:i], text[i+1:i+j], text[i+j+1:]
		if v := args[name]; v != "" {
			b.WriteString(head)
			b.WriteString(v)
		} else if strings.HasSuffix(head, " (") && strings.HasPrefix(tail, ")") {
			b.WriteString(head[:len(head)-2])
			tail = tail[1:]
		} else {
			b.WriteString(head)
		}
		text = tail
	}
	b.WriteString(text)
	return b.String()
}

// factsIn is the facts of a, as a reader of lang reads them: a template in
// their language followed by what the moderator typed, or free text as
// it was written.
func factsIn(a Action, lang string) string {
	if a.Template == "" || !ValidTemplate(a.Template) {
		return a.Facts
	}
	return joinFacts(TemplateText(a.Template, lang, a.TemplateArgs), a.TypedFacts)
}

// joinFacts puts what a moderator typed after a template's text.
func joinFacts(template, typed string) string {
	if typed == "" {
		return template
	}
	return template + "\n\n" + typed
}

// encodeArgs stores a template's parameters.
func encodeArgs(args map[string]string) string {
	if len(args) == 0 {
		return ""
	}
	b, _ := json.Marshal(args) // a map of strings always encodes
	return string(b)
}

// decodeArgs reads stored template parameters; what cannot be read is
// none.
func decodeArgs(s string) map[string]string {
	if s == "" {
		return nil
	}
	var m map[string]string
	if json.Unmarshal([]byte(s), &m) != nil {
		return nil
	}
	return m
}

// checkTemplate validates a template key a moderator chose and its
// parameters.
func checkTemplate(key string, args map[string]string) error {
	if key == "" {
		if len(args) > 0 {
			return kurir.Invalid("template_args", "no_template", "Template parameters come with a template.")
		}
		return nil
	}
	if !ValidTemplate(key) || automatedTemplate(key) {
		return kurir.Invalid("template", "unknown_template", "Unknown reason template %q; the templates are %s.", key, strings.Join(Templates(), ", "))
	}
	for k, v := range args {
		if !strings.Contains(templateTexts["en"][key], "{"+k+"}") {
			return kurir.Invalid("template_args", "unknown_parameter", "The template %q takes no parameter %q.", key, k)
		}
		if _, err := cleanText("template_args", "template parameter", v, 500, false); err != nil {
			return err
		}
	}
	return nil
}
