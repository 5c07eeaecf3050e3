package transparency

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"kurir"
	"kurir/account"
	"kurir/messaging"
)

// Channel posts each finished day's report into a public channel on kurir
// itself, as a system account, one message per language: a reader follows
// the numbers in the app they already use, as with Telegram's daily posts.
//
// The account and the channel are created the first time they are needed;
// their default names are reserved words (account.ParseSystemUsername), so
// nobody else can have registered them. Every post carries the
// idempotency key "transparency-DAY-LANG", so that nodes posting the same
// day at once, or a retry, post it once. A Channel is safe for concurrent
// use; set its fields before the first call.
type Channel struct {
	// Msg, Acc and Reports (required) are the services it posts with,
	// registers its account with and reads the reports from.
	Msg     *messaging.Service
	Acc     *account.Service
	Reports *Service
	// Username is the channel's @name (default "transparency").
	Username string
	// Account is the username of the system account that owns the channel
	// and posts (default "transparency_bot"). Its password is random and
	// never stored anywhere but as its hash: nobody can log in as it.
	Account string
	// Languages are the languages posted in, each one message, in order
	// (default en); see ParseLanguages.
	Languages []string
	// Site is the public address that a post's link starts with, such as
	// https://kurir.example; empty links the path alone.
	Site string
	// Backlog is the most days PostLatest posts at once (default 7): after
	// a long downtime, or on the first run over years of records, older
	// days are on the public pages, not in the channel.
	Backlog int

	mu   sync.Mutex
	chat messaging.ChatID
	bot  kurir.UserID
}

// languages are those a post can be written in.
var languages = []string{"en", "id", "ru", "ar"}

// ParseLanguages reads a comma-separated list of the languages posts can
// be written in (en, id, ru, ar), in order, each once.
func ParseLanguages(list string) ([]string, error) {
	var out []string
	for _, l := range strings.Split(list, ",") {
		l = strings.ToLower(strings.TrimSpace(l))
		if l == "" || slices.Contains(out, l) {
			continue
		}
		if !slices.Contains(languages, l) {
			return nil, kurir.Invalid("languages", "unknown_language", "Reports are posted in %s; %q is not one of them.", strings.Join(languages, ", "), l)
		}
		out = append(out, l)
	}
	if len(out) == 0 {
		return nil, kurir.Invalid("languages", "no_language", "Name at least one language to post in: %s.", strings.Join(languages, ", "))
	}
	return out, nil
}

func (c *Channel) username() string { return orDefault(c.Username, "transparency") }
func (c *Channel) account() string  { return orDefault(c.Account, "transparency_bot") }

func (c *Channel) languages() []string {
	if len(c.Languages) == 0 {
		return []string{"en"}
	}
	return c.Languages
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Ensure returns the channel and the account that posts in it, creating
// either if it does not exist yet. Nodes that create them at once end up
// with one of each: the names are unique, and the loser of a race finds
// the winner's. It fails with EConflict if the @name belongs to a chat the
// system account does not own.
func (c *Channel) Ensure(ctx context.Context) (messaging.ChatID, kurir.UserID, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.chat != 0 {
		return c.chat, c.bot, nil
	}
	bot, err := c.ensureAccount(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("transparency account @%s: %w", c.account(), err)
	}
	chat, err := c.ensureChannel(ctx, bot)
	if err != nil {
		return 0, 0, fmt.Errorf("transparency channel @%s: %w", c.username(), err)
	}
	c.chat, c.bot = chat, bot
	return chat, bot, nil
}

func (c *Channel) ensureAccount(ctx context.Context) (kurir.UserID, error) {
	u, err := c.Acc.UserByUsername(ctx, c.account())
	if err == nil {
		return u.ID, nil
	}
	if kurir.ErrorCode(err) != kurir.ENotFound {
		return 0, err
	}
	u, err = c.Acc.Register(ctx, account.RegisterParams{Username: c.account(), DisplayName: "Transparency",
		Password: rand.Text() + rand.Text(), System: true})
	if kurir.ErrorCode(err) == kurir.EConflict {
		u, err = c.Acc.UserByUsername(ctx, c.account()) // another node registered it first
	}
	return u.ID, err
}

func (c *Channel) ensureChannel(ctx context.Context, bot kurir.UserID) (messaging.ChatID, error) {
	ch, err := c.Msg.ChatByUsername(ctx, bot, c.username())
	if kurir.ErrorCode(err) == kurir.ENotFound {
		var about []string
		for _, l := range c.languages() {
			about = append(about, texts[l].about)
		}
		ch, err = c.Msg.CreateChannel(ctx, bot, messaging.NewChat{Title: texts[c.languages()[0]].title, About: strings.Join(about, "\n"),
			Username: c.username(), System: true})
		if kurir.ErrorCode(err) == kurir.EConflict {
			ch, err = c.Msg.ChatByUsername(ctx, bot, c.username()) // another node created it first
		}
	}
	if err != nil {
		return 0, err
	}
	if ch.Kind != messaging.Channel || ch.Role != messaging.Owner {
		return 0, kurir.Errorf(kurir.EConflict, "@%s is a %s that @%s does not own; name another channel for the transparency reports.",
			c.username(), ch.Kind, c.account())
	}
	return ch.ID, nil
}

// PostDay posts a finished day's report in each of the channel's
// languages. Posting a day again posts nothing new within
// messaging.IdempotencyWindow of the first post.
func (c *Channel) PostDay(ctx context.Context, r Report) error {
	if r.Partial || len(r.Period) != len(time.DateOnly) {
		return kurir.Invalid("day", "not_finished", "Only a finished day's report is posted; %s is not one.", r.Period)
	}
	for _, l := range c.languages() {
		if _, ok := texts[l]; !ok {
			return kurir.Invalid("languages", "unknown_language", "Reports are posted in %s; %q is not one of them.", strings.Join(languages, ", "), l)
		}
	}
	chat, bot, err := c.Ensure(ctx)
	if err != nil {
		return err
	}
	p := r.Public(c.Reports.BandBelow())
	// A day's post has no law-enforcement figures (see
	// Report.PublishesLegal); the month's come with its last day.
	var month *Public
	if r.To.Day() == 1 {
		m, err := c.Reports.Month(ctx, r.From.Year(), r.From.Month())
		if err != nil {
			return fmt.Errorf("the month of %s: %w", r.Period, err)
		}
		if m.PublishesLegal() {
			mp := m.Public(c.Reports.BandBelow())
			month = &mp
		}
	}
	link := strings.TrimRight(c.Site, "/") + "/transparency/" + r.Period
	for _, l := range c.languages() {
		_, err := c.Msg.Send(ctx, bot, chat, messaging.SendParams{Text: Summary(p, month, l, link), IdempotencyKey: "transparency-" + r.Period + "-" + l})
		if err != nil {
			return fmt.Errorf("post the report of %s in %s: %w", r.Period, l, err)
		}
	}
	return nil
}

// PostLatest posts the reports of the last days finished days, oldest
// first, at most Backlog of them. It is what runs after the daily job
// stored reports (Service.RunDaily's after). A day that cannot be posted
// does not stop the others; the errors are returned together.
func (c *Channel) PostLatest(ctx context.Context, days int) error {
	backlog := c.Backlog
	if backlog <= 0 {
		backlog = 7
	}
	days = min(days, backlog)
	yesterday := dayOf(c.Reports.clock.Now()).AddDate(0, 0, -1)
	var errs []error
	for i := days - 1; i >= 0; i-- {
		r, err := c.Reports.Day(ctx, yesterday.AddDate(0, 0, -i))
		if err == nil {
			err = c.PostDay(ctx, r)
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Summary is the text of a day's post in lang (en, id, ru or ar; English
// otherwise), ending with link: groups and channels taken down for child
// abuse and for terrorism first, as Telegram publishes them, then every
// action, the median time to act, appeals, and, if month is given (on the
// month's last day), the month's law-enforcement requests.
func Summary(p Public, month *Public, lang, link string) string {
	t, ok := texts[lang]
	if !ok {
		lang, t = "en", texts["en"]
	}
	a := p.Actions
	s := summary{
		printer: message.NewPrinter(language.MustParse(lang)),
		day:     p.Period, link: link,
		childAbuse: a.ChatsTakenDown["child_abuse"], terrorism: a.ChatsTakenDown["terrorism"],
		total: a.Total, removed: a.ByKind["remove_message"] + a.ByKind["remove_media"], takenDown: a.ByKind["takedown"],
		accounts: a.ByKind["suspend"] + a.ByKind["ban"], restricted: a.ByKind["restrict"], labelled: a.ByKind["label"],
		decided: p.Appeals.Decided, reversed: p.Appeals.Reversed,
	}
	s.otherChats = s.takenDown - s.childAbuse - s.terrorism
	if p.Speed.Count > 0 {
		s.median = t.duration(s.printer, p.Speed.MedianSeconds)
	}
	if month != nil && month.Legal != nil {
		s.legal, s.month = s.count(month.Legal.Received), month.Period
	}
	return t.write(s)
}

// summary is what a post says, for a language's template.
type summary struct {
	printer                                                   *message.Printer
	day, link                                                 string
	childAbuse, terrorism, otherChats                         int64
	total, removed, takenDown, accounts, restricted, labelled int64
	decided, reversed                                         int64
	median                                                    string // "" when nothing was acted on
	legal, month                                              string // the month's requests, a number or a band; "" if not given
}

// n writes a number as lang writes it: 1,234, 1.234, 1 234 or ١٬٢٣٤.
func (s summary) n(v int64) string { return s.printer.Sprintf("%d", v) }

// count writes a published count: a number, or a band such as 1–9.
func (s summary) count(c Count) string {
	if lo, hi, ok := strings.Cut(c.Band, "-"); ok {
		l, err1 := strconv.ParseInt(lo, 10, 64)
		h, err2 := strconv.ParseInt(hi, 10, 64)
		if err1 == nil && err2 == nil {
			return s.n(l) + "–" + s.n(h)
		}
		return c.Band
	}
	return s.n(c.N)
}

// plural picks the English singular or plural.
func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// postTemplate is the template of a language: the channel's title and
// description, how it writes a duration, and the post.
type postTemplate struct {
	title, about string
	duration     func(p *message.Printer, seconds int64) string
	write        func(s summary) string
}

// duration writes a median, given as the lower bound of its histogram
// bucket, in the unit of the bucket: seconds, minutes, hours, or "more than
// a week".
func duration(p *message.Printer, seconds int64, sec, min, hour, week string) string {
	switch {
	case seconds < 60:
		return p.Sprintf("%d", seconds) + " " + sec
	case seconds < 3600:
		return p.Sprintf("%d", seconds/60) + " " + min
	case seconds < 168*3600:
		return p.Sprintf("%d", seconds/3600) + " " + hour
	}
	return week
}

// texts are the four templates. English counts first, as Telegram writes
// it; Russian and Arabic, whose nouns take several plural forms, name each
// count and then give it, so no number has to agree with a noun.
var texts = map[string]postTemplate{
	"en": {
		title: "Transparency",
		about: "Daily transparency reports: what moderation did on kurir, and requests from law enforcement, from kurir's own records.",
		duration: func(p *message.Printer, s int64) string {
			return duration(p, s, "s", "min", "h", "more than a week")
		},
		write: func(s summary) string {
			var b strings.Builder
			fmt.Fprintf(&b, "Transparency report for %s: %s %s related to child abuse banned; %s related to terrorism; ", s.day,
				s.n(s.childAbuse), plural(s.childAbuse, "group or channel", "groups and channels"), s.n(s.terrorism))
			if s.otherChats > 0 {
				fmt.Fprintf(&b, "%s for other reasons; ", s.n(s.otherChats))
			}
			fmt.Fprintf(&b, "%s %s in all", s.n(s.total), plural(s.total, "action", "actions"))
			if s.total > 0 {
				fmt.Fprintf(&b, " (%s %s removed, %s %s taken down, %s %s suspended or banned, %s restricted in some countries",
					s.n(s.removed), plural(s.removed, "message or file", "messages and files"),
					s.n(s.takenDown), plural(s.takenDown, "group or channel", "groups and channels"),
					s.n(s.accounts), plural(s.accounts, "account", "accounts"), s.n(s.restricted))
				if s.labelled > 0 {
					fmt.Fprintf(&b, ", %s labelled", s.n(s.labelled))
				}
				b.WriteString(")")
			}
			if s.median != "" {
				fmt.Fprintf(&b, "; median time to action %s", s.median)
			}
			fmt.Fprintf(&b, "; %s %s decided, %s reversed", s.n(s.decided), plural(s.decided, "appeal", "appeals"), s.n(s.reversed))
			if s.legal != "" {
				fmt.Fprintf(&b, "; law-enforcement requests in %s: %s", s.month, s.legal)
			}
			fmt.Fprintf(&b, ". Details: %s", s.link)
			return b.String()
		},
	},
	"id": {
		title: "Transparansi",
		about: "Laporan transparansi harian: tindakan moderasi di kurir dan permintaan dari penegak hukum, dari catatan kurir sendiri.",
		duration: func(p *message.Printer, s int64) string {
			return duration(p, s, "detik", "menit", "jam", "lebih dari seminggu")
		},
		write: func(s summary) string {
			var b strings.Builder
			fmt.Fprintf(&b, "Laporan transparansi %s: %s grup dan kanal terkait pelecehan seksual anak diblokir; %s terkait terorisme; ",
				s.day, s.n(s.childAbuse), s.n(s.terrorism))
			if s.otherChats > 0 {
				fmt.Fprintf(&b, "%s karena alasan lain; ", s.n(s.otherChats))
			}
			fmt.Fprintf(&b, "total %s tindakan", s.n(s.total))
			if s.total > 0 {
				fmt.Fprintf(&b, " (%s pesan dan berkas dihapus, %s grup dan kanal ditutup, %s akun ditangguhkan atau diblokir, %s dibatasi di beberapa negara",
					s.n(s.removed), s.n(s.takenDown), s.n(s.accounts), s.n(s.restricted))
				if s.labelled > 0 {
					fmt.Fprintf(&b, ", %s diberi label", s.n(s.labelled))
				}
				b.WriteString(")")
			}
			if s.median != "" {
				fmt.Fprintf(&b, "; median waktu hingga tindakan %s", s.median)
			}
			fmt.Fprintf(&b, "; %s banding diputuskan, %s dikabulkan", s.n(s.decided), s.n(s.reversed))
			if s.legal != "" {
				fmt.Fprintf(&b, "; permintaan penegak hukum pada %s: %s", s.month, s.legal)
			}
			fmt.Fprintf(&b, ". Rincian: %s", s.link)
			return b.String()
		},
	},
	"ru": {
		title: "Прозрачность",
		about: "Ежедневные отчёты о прозрачности: меры модерации в kurir и запросы правоохранительных органов, по собственным записям kurir.",
		duration: func(p *message.Printer, s int64) string {
			return duration(p, s, "с", "мин", "ч", "больше недели")
		},
		write: func(s summary) string {
			var b strings.Builder
			fmt.Fprintf(&b, "Отчёт о прозрачности за %s. Заблокировано групп и каналов, связанных с сексуальным насилием над детьми: %s; с терроризмом: %s",
				s.day, s.n(s.childAbuse), s.n(s.terrorism))
			if s.otherChats > 0 {
				fmt.Fprintf(&b, "; по другим причинам: %s", s.n(s.otherChats))
			}
			fmt.Fprintf(&b, ". Всего мер: %s", s.n(s.total))
			if s.total > 0 {
				fmt.Fprintf(&b, " (удалено сообщений и файлов: %s; закрыто групп и каналов: %s; приостановлено или заблокировано аккаунтов: %s; ограничено в отдельных странах: %s",
					s.n(s.removed), s.n(s.takenDown), s.n(s.accounts), s.n(s.restricted))
				if s.labelled > 0 {
					fmt.Fprintf(&b, "; помечено: %s", s.n(s.labelled))
				}
				b.WriteString(")")
			}
			if s.median != "" {
				fmt.Fprintf(&b, ". Медианное время до принятия мер: %s", s.median)
			}
			fmt.Fprintf(&b, ". Рассмотрено апелляций: %s, решений отменено: %s", s.n(s.decided), s.n(s.reversed))
			if s.legal != "" {
				fmt.Fprintf(&b, ". Запросы правоохранительных органов за %s: %s", s.month, s.legal)
			}
			fmt.Fprintf(&b, ". Подробнее: %s", s.link)
			return b.String()
		},
	},
	"ar": {
		title: "الشفافية",
		about: "تقارير الشفافية اليومية: إجراءات الإشراف على kurir وطلبات جهات إنفاذ القانون، من سجلات kurir نفسه.",
		duration: func(p *message.Printer, s int64) string {
			return duration(p, s, "ث", "د", "س", "أكثر من أسبوع")
		},
		write: func(s summary) string {
			var b strings.Builder
			fmt.Fprintf(&b, "تقرير الشفافية ليوم %s: المجموعات والقنوات المحظورة المتعلقة بالاعتداء الجنسي على الأطفال: %s؛ المتعلقة بالإرهاب: %s؛ ",
				s.day, s.n(s.childAbuse), s.n(s.terrorism))
			if s.otherChats > 0 {
				fmt.Fprintf(&b, "لأسباب أخرى: %s؛ ", s.n(s.otherChats))
			}
			fmt.Fprintf(&b, "مجموع الإجراءات: %s", s.n(s.total))
			if s.total > 0 {
				fmt.Fprintf(&b, " (الرسائل والملفات المحذوفة: %s، المجموعات والقنوات المغلقة: %s، الحسابات الموقوفة أو المحظورة: %s، المقيدة في بعض البلدان: %s",
					s.n(s.removed), s.n(s.takenDown), s.n(s.accounts), s.n(s.restricted))
				if s.labelled > 0 {
					fmt.Fprintf(&b, "، الموسومة بتحذير: %s", s.n(s.labelled))
				}
				b.WriteString(")")
			}
			if s.median != "" {
				fmt.Fprintf(&b, "؛ الوقت الوسيط حتى اتخاذ الإجراء: %s", s.median)
			}
			fmt.Fprintf(&b, "؛ الطعون التي بُتّ فيها: %s، أُلغي القرار في: %s", s.n(s.decided), s.n(s.reversed))
			if s.legal != "" {
				fmt.Fprintf(&b, "؛ طلبات جهات إنفاذ القانون في %s: %s", s.month, s.legal)
			}
			fmt.Fprintf(&b, ". التفاصيل: %s", s.link)
			return b.String()
		},
	},
}
