package jurisdiction

import (
	"fmt"

	"kurir"
)

// The refusals people in a withdrawn or restricted market read, in the
// languages of the clients. %[1]s is the country's name and code, %[2]s the
// feature.
var (
	withdrawnTexts = map[string]string{
		"en": "kurir is not available in %[1]s: the operator has withdrawn from this market. Accounts and their data are kept, not deleted.",
		"id": "kurir tidak tersedia di %[1]s: operator telah menarik diri dari pasar ini. Akun dan datanya tetap disimpan, tidak dihapus.",
		"ru": "kurir недоступен в стране %[1]s: оператор ушёл с этого рынка. Аккаунты и их данные сохраняются, а не удаляются.",
		"ar": "kurir غير متاح في %[1]s: انسحب المشغّل من هذا السوق. تُحفظ الحسابات وبياناتها ولا تُحذف.",
	}
	featureTexts = map[string]string{
		"en": "%[2]s is not available in %[1]s, where the operator has restricted its service.",
		"id": "%[2]s tidak tersedia di %[1]s, tempat operator membatasi layanannya.",
		"ru": "%[2]s: недоступно в стране %[1]s, где оператор ограничил работу сервиса.",
		"ar": "%[2]s غير متاح في %[1]s، حيث قيّد المشغّل خدمته.",
	}
	featureNames = map[string]map[Feature]string{
		"en": {Signup: "Creating an account", Discovery: "Finding public groups and channels", PublicChats: "Making a group or channel public", Uploads: "Sending photos and files"},
		"id": {Signup: "Membuat akun", Discovery: "Mencari grup dan kanal publik", PublicChats: "Menjadikan grup atau kanal publik", Uploads: "Mengirim foto dan berkas"},
		"ru": {Signup: "Создание аккаунта", Discovery: "Поиск публичных групп и каналов", PublicChats: "Публичные группы и каналы", Uploads: "Отправка фото и файлов"},
		"ar": {Signup: "إنشاء حساب", Discovery: "البحث عن المجموعات والقنوات العامة", PublicChats: "جعل مجموعة أو قناة عامة", Uploads: "إرسال الصور والملفات"},
	}
)

// place names a country for people: "Iran (IR)".
func place(code string) string {
	if name := kurir.CountryName(code); name != "" {
		return name + " (" + code + ")"
	}
	return code
}

func pick[T any](m map[string]T, lang string) T {
	if v, ok := m[lang]; ok {
		return v
	}
	return m["en"]
}

func withNote(text, note string) string {
	if note != "" {
		text += " " + note
	}
	return text
}

func withdrawnText(lang, country, note string) string {
	return withNote(fmt.Sprintf(pick(withdrawnTexts, lang), place(country)), note)
}

func featureText(lang, country string, f Feature, note string) string {
	return withNote(fmt.Sprintf(pick(featureTexts, lang), place(country), pick(featureNames, lang)[f]), note)
}
