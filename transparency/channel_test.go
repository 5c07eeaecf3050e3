package transparency_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"kurir"
	"kurir/account"
	"kurir/audit"
	"kurir/clocktest"
	"kurir/jurisdiction"
	"kurir/jurisdiction/geo"
	"kurir/legal"
	"kurir/media"
	"kurir/messaging"
	"kurir/moderation"
	"kurir/safety"
	"kurir/safety/hashbank"
	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
	"kurir/transparency"
)

// trSchema is every table the reports read and the channel writes.
var trSchema = []sqldb.Migrations{account.Migrations, media.Migrations, messaging.Migrations, hashbank.Migrations, safety.Migrations,
	audit.Migrations, geo.Migrations, moderation.Migrations, jurisdiction.Migrations, legal.Migrations, transparency.Migrations}

// trWorld is a platform on a fake clock: accounts, messaging, moderation
// and the reports over one database.
type trWorld struct {
	t     *testing.T
	ctx   context.Context
	db    *sqldb.DB
	clock *clocktest.Fake
	acc   *account.Service
	msg   *messaging.Service
	mod   *moderation.Service
	rep   *transparency.Service
	keys  int
}

func newTrWorld(t *testing.T, db *sqldb.DB, start time.Time, cfg transparency.Config) *trWorld {
	clock := clocktest.New(start)
	w := &trWorld{t: t, ctx: t.Context(), db: db, clock: clock}
	w.acc = account.NewService(db, clock, nil, account.Config{Argon2: account.CheapArgon2Params, Limits: &account.Limits{}})
	w.msg = messaging.NewService(db, nil, clock, nil, messaging.Config{})
	w.mod = moderation.NewService(db, w.msg, w.acc, clock, nil, moderation.Config{})
	w.rep = transparency.NewService(db, clock, nil, cfg)
	return w
}

func (w *trWorld) must(what string, err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatalf("%s: %v", what, err)
	}
}

func (w *trWorld) user(name string, role kurir.Role) kurir.UserID {
	w.t.Helper()
	u, err := w.acc.Register(w.ctx, account.RegisterParams{Username: name, Password: "wet-otter-lantern-9", Role: role})
	w.must("Register "+name, err)
	return u.ID
}

// channel creates a public channel of owner's with one post.
func (w *trWorld) channel(owner kurir.UserID, name string) (messaging.Chat, messaging.Message) {
	w.t.Helper()
	ch, err := w.msg.CreateChannel(w.ctx, owner, messaging.NewChat{Title: "Channel " + name, Username: name})
	w.must("CreateChannel", err)
	w.keys++
	m, err := w.msg.Send(w.ctx, owner, ch.ID, messaging.SendParams{Text: "post in " + name, IdempotencyKey: fmt.Sprint("k", w.keys)})
	w.must("Send", err)
	return ch, m
}

func (w *trWorld) report(reporter kurir.UserID, subj moderation.Subject, cat moderation.Category) int64 {
	w.t.Helper()
	r, err := w.mod.Report(w.ctx, reporter, moderation.ReportParams{Subject: subj, Category: cat})
	w.must("Report", err)
	return r.CaseID
}

func (w *trWorld) act(by moderation.Staff, caseID int64, p moderation.ActParams) moderation.Action {
	w.t.Helper()
	p.Facts = "Seen by a moderator."
	a, err := w.mod.Act(w.ctx, by, caseID, p)
	w.must("Act", err)
	return a
}

// trRecords writes moderation and legal records straight into the tables
// the reports read, at chosen times, for numbers known in advance.
type trRecords struct {
	t               *testing.T
	ctx             context.Context
	db              *sqldb.DB
	agency, officer int64
	n               int
}

func newTrRecords(t *testing.T, db *sqldb.DB) *trRecords {
	r := &trRecords{t: t, ctx: t.Context(), db: db}
	r.write(func(tx *sqldb.Tx) error {
		if err := tx.QueryRowContext(r.ctx, `INSERT INTO legal_agencies (name, country, domains, created_at) VALUES ('Polizei', 'DE', 'polizei.example', 1) RETURNING id`).
			Scan(&r.agency); err != nil {
			return err
		}
		return tx.QueryRowContext(r.ctx, `INSERT INTO legal_officers (agency_id, email, name, password_hash, created_at)
			VALUES ($1, 'o@polizei.example', 'Officer', 'x', 1) RETURNING id`, r.agency).Scan(&r.officer)
	})
	return r
}

func (r *trRecords) write(fn func(tx *sqldb.Tx) error) {
	r.t.Helper()
	if err := r.db.WriteTx(r.ctx, fn); err != nil {
		r.t.Fatal(err)
	}
}

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return sqldb.Micros(t)
}

// caseAt opens (and resolves) a case of its own at opened.
func (r *trRecords) caseAt(tx *sqldb.Tx, category string, opened time.Time) (int64, string, error) {
	r.n++
	subject := fmt.Sprintf("user:%d", 1000+r.n)
	var id int64
	err := tx.QueryRowContext(r.ctx, `INSERT INTO mod_cases (subject, user_id, category, priority, state, due_at, opened_at, updated_at, outcome)
		VALUES ($1, $2, $3, 10, 'resolved', $4, $4, $4, 'actioned') RETURNING id`, subject, 1000+r.n, category, micros(opened)).Scan(&id)
	return id, subject, err
}

// trAction is an action to record: its case opened at opened, the action
// taken at at.
type trAction struct {
	kind, category, source, ground, territory string
	opened, at, reversed                      time.Time
	detect, decide                            bool
}

func (r *trRecords) action(a trAction) int64 {
	r.t.Helper()
	if a.ground == "" {
		a.ground = "terms"
	}
	if a.opened.IsZero() {
		a.opened = a.at
	}
	var id int64
	r.write(func(tx *sqldb.Tx) error {
		caseID, subject, err := r.caseAt(tx, a.category, a.opened)
		if err != nil {
			return err
		}
		b := func(v bool) int {
			if v {
				return 1
			}
			return 0
		}
		return tx.QueryRowContext(r.ctx, `INSERT INTO mod_actions (case_id, kind, subject, affected_id, category, ground, facts, content_type, source,
			automated_detection, automated_decision, moderator_id, created_at, reversed_at, territory)
			VALUES ($1, $2, $3, 7, $4, $5, 'facts', 'text', $6, $7, $8, 1, $9, $10, $11) RETURNING id`,
			caseID, a.kind, subject, a.category, a.ground, a.source, b(a.detect), b(a.decide), micros(a.at), micros(a.reversed), a.territory).Scan(&id)
	})
	return id
}

func (r *trRecords) signal(source, category string, at time.Time) {
	r.t.Helper()
	r.write(func(tx *sqldb.Tx) error {
		caseID, subject, err := r.caseAt(tx, category, at)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(r.ctx, `INSERT INTO mod_signals (case_id, subject, source, category, weight_milli, created_at) VALUES ($1, $2, $3, $4, 1000, $5)`,
			caseID, subject, source, category, micros(at))
		return err
	})
}

func (r *trRecords) appeal(action int64, filed, decided time.Time, state string) {
	r.t.Helper()
	r.write(func(tx *sqldb.Tx) error {
		_, err := tx.ExecContext(r.ctx, `INSERT INTO mod_appeals (action_id, user_id, text, state, created_at, decided_at) VALUES ($1, 7, 'please', $2, $3, $4)`,
			action, state, micros(filed), micros(decided))
		return err
	})
}

func (r *trRecords) legalRequest(kind, state, country string, received, closed, enforced time.Time) {
	r.t.Helper()
	r.n++
	r.write(func(tx *sqldb.Tx) error {
		_, err := tx.ExecContext(r.ctx, `INSERT INTO legal_requests (number, agency_id, officer_id, kind, state, case_reference, legal_basis, process,
			issuing_authority, jurisdiction, targets, due_at, received_at, updated_at, closed_at, enforced_at)
			VALUES ($1, $2, $3, $4, $5, 'ref', 'basis', 'court_order', 'court', $6, '[]', $7, $7, $7, $8, $9)`,
			fmt.Sprintf("LE-%d", r.n), r.agency, r.officer, kind, state, country, micros(received), micros(closed), micros(enforced))
		return err
	})
}

// history is every message of the channel, as a subscriber reads it.
func (w *trWorld) history(reader kurir.UserID, chat messaging.ChatID) []string {
	w.t.Helper()
	msgs, err := w.msg.History(w.ctx, reader, chat, 0, messaging.Newer, 100)
	w.must("History", err)
	var out []string
	for _, m := range msgs {
		out = append(out, m.Text)
	}
	return out
}

func TestChannelPostsTheDailyReportInEachLanguage(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		day := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
		w := newTrWorld(t, db, day, transparency.Config{})
		olga, rita, ravi := w.user("olga", kurir.RoleUser), w.user("rita", kurir.RoleUser), w.user("ravi", kurir.RoleUser)
		mona := moderation.Staff{ID: w.user("mona", kurir.RoleModerator), Role: kurir.RoleModerator}
		milo := moderation.Staff{ID: w.user("milo", kurir.RoleModerator), Role: kurir.RoleModerator}
		abuse, _ := w.channel(olga, "badstuff")
		plot, _ := w.channel(olga, "plotters")
		_, post := w.channel(olga, "olganews")
		cases := []int64{
			w.report(rita, moderation.Subject{Kind: moderation.SubjectChat, Chat: abuse.ID}, moderation.ChildAbuse),
			w.report(rita, moderation.Subject{Kind: moderation.SubjectChat, Chat: plot.ID}, moderation.Terrorism),
			w.report(rita, moderation.Subject{Kind: moderation.SubjectMessage, Chat: post.ChatID, Seq: post.Seq}, moderation.Spam),
			w.report(rita, moderation.Subject{Kind: moderation.SubjectUser, User: ravi}, moderation.Harassment),
		}
		w.clock.Advance(7 * time.Minute)
		w.act(mona, cases[0], moderation.ActParams{Kind: moderation.TakeDown})
		w.act(mona, cases[1], moderation.ActParams{Kind: moderation.TakeDown})
		removal := w.act(mona, cases[2], moderation.ActParams{Kind: moderation.RemoveMessage})
		w.act(mona, cases[3], moderation.ActParams{Kind: moderation.Suspend, Until: day.AddDate(0, 0, 7)})
		appeal, err := w.mod.FileAppeal(w.ctx, olga, removal.ID, "It was not spam.")
		w.must("FileAppeal", err)
		_, err = w.mod.DecideAppeal(w.ctx, milo, appeal.ID, true, "Not spam after all.")
		w.must("DecideAppeal", err)
		newTrRecords(t, db).legalRequest("disclosure", "received", "DE", w.clock.Now(), time.Time{}, time.Time{})

		w.clock.Advance(24 * time.Hour)
		n, err := w.rep.CatchUp(w.ctx)
		if err != nil || n != 1 {
			t.Fatalf("CatchUp = %d, %v; want the one day stored", n, err)
		}
		ch := &transparency.Channel{Msg: w.msg, Acc: w.acc, Reports: w.rep, Languages: []string{"en", "id", "ru", "ar"}}
		w.must("PostLatest", ch.PostLatest(w.ctx, n))

		found, err := w.msg.ChatByUsername(w.ctx, rita, "transparency")
		w.must("ChatByUsername", err)
		if found.Kind != messaging.Channel || found.Title != "Transparency" {
			t.Errorf("@transparency is a %s titled %q, want the channel Transparency", found.Kind, found.Title)
		}
		_, err = w.msg.Join(w.ctx, rita, found.ID)
		w.must("Join", err)
		want := []string{
			"Transparency report for 2026-11-28: 1 group or channel related to child abuse banned; 1 related to terrorism; 4 actions in all " +
				"(1 message or file removed, 2 groups and channels taken down, 1 account suspended or banned, 0 restricted in some countries); " +
				"median time to action 7 min; 1 appeal decided, 1 reversed. Details: /transparency/2026-11-28",
			"Laporan transparansi 2026-11-28: 1 grup dan kanal terkait pelecehan seksual anak diblokir; 1 terkait terorisme; total 4 tindakan " +
				"(1 pesan dan berkas dihapus, 2 grup dan kanal ditutup, 1 akun ditangguhkan atau diblokir, 0 dibatasi di beberapa negara); " +
				"median waktu hingga tindakan 7 menit; 1 banding diputuskan, 1 dikabulkan. Rincian: /transparency/2026-11-28",
			"Отчёт о прозрачности за 2026-11-28. Заблокировано групп и каналов, связанных с сексуальным насилием над детьми: 1; с терроризмом: 1. " +
				"Всего мер: 4 (удалено сообщений и файлов: 1; закрыто групп и каналов: 2; приостановлено или заблокировано аккаунтов: 1; ограничено в отдельных странах: 0). " +
				"Медианное время до принятия мер: 7 мин. Рассмотрено апелляций: 1, решений отменено: 1. Подробнее: /transparency/2026-11-28",
			"تقرير الشفافية ليوم 2026-11-28: المجموعات والقنوات المحظورة المتعلقة بالاعتداء الجنسي على الأطفال: ١؛ المتعلقة بالإرهاب: ١؛ مجموع الإجراءات: ٤ " +
				"(الرسائل والملفات المحذوفة: ١، المجموعات والقنوات المغلقة: ٢، الحسابات الموقوفة أو المحظورة: ١، المقيدة في بعض البلدان: ٠)؛ " +
				"الوقت الوسيط حتى اتخاذ الإجراء: ٧ د؛ الطعون التي بُتّ فيها: ١، أُلغي القرار في: ١. التفاصيل: /transparency/2026-11-28",
		}
		got := w.history(rita, found.ID)
		if len(got) != len(want) {
			t.Fatalf("the channel holds %d posts, want %d:\n%q", len(got), len(want), got)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("post %d:\n got %s\nwant %s", i, got[i], want[i])
			}
		}

		// Posting the day again, from this node or another, adds nothing.
		w.must("PostLatest again", ch.PostLatest(w.ctx, 1))
		other := &transparency.Channel{Msg: w.msg, Acc: w.acc, Reports: w.rep, Languages: []string{"en", "id", "ru", "ar"}}
		r, err := w.rep.Day(w.ctx, day)
		w.must("Day", err)
		w.must("PostDay on another node", other.PostDay(w.ctx, r))
		if got := w.history(rita, found.ID); len(got) != len(want) {
			t.Errorf("after posting the day again the channel holds %d posts, want %d", len(got), len(want))
		}

		// Today's report is not over, and is not posted.
		today, err := w.rep.Day(w.ctx, w.clock.Now())
		w.must("Day today", err)
		if err := ch.PostDay(w.ctx, today); kurir.ErrorCode(err) != kurir.EInvalid {
			t.Errorf("posting today's partial report: %v, want EInvalid", err)
		}

		// A day's post says nothing of law-enforcement requests; the
		// month's come with its last day, banded (one request: 0-9).
		w.clock.Set(time.Date(2026, 12, 1, 0, 30, 0, 0, time.UTC))
		n, err = w.rep.CatchUp(w.ctx)
		if err != nil || n != 2 {
			t.Fatalf("CatchUp on 1 December = %d, %v; want 29 and 30 November", n, err)
		}
		w.must("PostLatest on 1 December", ch.PostLatest(w.ctx, n))
		got = w.history(rita, found.ID)
		if len(got) != len(want)+8 {
			t.Fatalf("the channel holds %d posts, want %d", len(got), len(want)+8)
		}
		for i, post := range got[len(want) : len(want)+4] {
			if strings.Contains(post, "2026-11:") || strings.Contains(post, "law-enforcement") || strings.Contains(post, "penegak hukum") {
				t.Errorf("29 November's post %d speaks of law-enforcement requests: %s", i, post)
			}
		}
		last := got[len(want)+4:]
		for i, wantPart := range []string{"; law-enforcement requests in 2026-11: 0–9. Details: /transparency/2026-11-30",
			"; permintaan penegak hukum pada 2026-11: 0–9. Rincian: /transparency/2026-11-30",
			". Запросы правоохранительных органов за 2026-11: 0–9. Подробнее: /transparency/2026-11-30",
			"؛ طلبات جهات إنفاذ القانون في 2026-11: ٠–٩. التفاصيل: /transparency/2026-11-30"} {
			if !strings.HasSuffix(last[i], wantPart) {
				t.Errorf("30 November's post %d does not end with the month's requests %q:\n%s", i, wantPart, last[i])
			}
		}
	}, trSchema...)
}

func TestChannelEnsureIsIdempotentAcrossNodes(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		w := newTrWorld(t, db, time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC), transparency.Config{})
		nodes := make([]*transparency.Channel, 4)
		type ids struct {
			chat messaging.ChatID
			bot  kurir.UserID
		}
		got := make([]ids, len(nodes))
		errs := make([]error, len(nodes))
		var wg sync.WaitGroup
		for i := range nodes {
			nodes[i] = &transparency.Channel{Msg: w.msg, Acc: w.acc, Reports: w.rep}
			wg.Go(func() { got[i].chat, got[i].bot, errs[i] = nodes[i].Ensure(w.ctx) })
		}
		wg.Wait()
		for i := range nodes {
			w.must(fmt.Sprintf("Ensure on node %d", i), errs[i])
			if got[i] != got[0] {
				t.Errorf("node %d has channel %d of account %d, node 0 channel %d of account %d", i, got[i].chat, got[i].bot, got[0].chat, got[0].bot)
			}
		}
		again, bot, err := nodes[0].Ensure(w.ctx)
		if err != nil || again != got[0].chat || bot != got[0].bot {
			t.Errorf("Ensure again = %d, %d, %v; want %d, %d", again, bot, err, got[0].chat, got[0].bot)
		}
		u, err := w.acc.UserByUsername(w.ctx, "transparency_bot")
		w.must("UserByUsername", err)
		if u.ID != got[0].bot || u.Role != kurir.RoleUser {
			t.Errorf("@transparency_bot is %d with role %s, want %d with role user", u.ID, u.Role, got[0].bot)
		}
		var chats int
		w.must("count", db.Read().QueryRowContext(w.ctx, `SELECT COUNT(*) FROM chats WHERE username_key = 'transparency'`).Scan(&chats))
		if chats != 1 {
			t.Errorf("%d chats named @transparency, want 1", chats)
		}

		// The names stay reserved for kurir: nobody else may take them.
		_, err = w.acc.Register(w.ctx, account.RegisterParams{Username: "transparency_news", Password: "wet-otter-lantern-9"})
		if kurir.ErrorReason(err) != "username_reserved" {
			t.Errorf("a user registering transparency_news: %v, want username_reserved", err)
		}
		owner := w.user("olga", kurir.RoleUser)
		_, err = w.msg.CreateChannel(w.ctx, owner, messaging.NewChat{Title: "Mine", Username: "transparency_daily"})
		if kurir.ErrorReason(err) != "username_reserved" {
			t.Errorf("a user creating @transparency_daily: %v, want username_reserved", err)
		}

		// A name that belongs to someone else's chat is refused, not posted in.
		w.channel(owner, "olganews")
		squatted := &transparency.Channel{Msg: w.msg, Acc: w.acc, Reports: w.rep, Username: "olganews"}
		if _, _, err := squatted.Ensure(w.ctx); kurir.ErrorCode(err) != kurir.EConflict {
			t.Errorf("Ensure over someone else's @olganews: %v, want EConflict", err)
		}
	}, trSchema...)
}

func TestSummaryWritesNumbersAsEachLanguageDoes(t *testing.T) {
	var p transparency.Public
	p.Period = "2026-11-28"
	p.Actions = transparency.Actions{Total: 1234567, ByKind: map[string]int64{"remove_message": 1000, "remove_media": 234, "takedown": 2400, "ban": 12, "restrict": 5, "label": 3},
		ChatsTakenDown: map[string]int64{"child_abuse": 2000, "terrorism": 300, "spam": 100}}
	p.Speed = transparency.TimeToAction{Count: 9, MedianSeconds: 3 * 3600}
	p.Appeals = transparency.Appeals{Decided: 1500, Reversed: 20}
	month := &transparency.Public{Period: "2026-11", Legal: &transparency.PublicLegal{Received: transparency.Count{N: 42}}}
	tests := []struct{ lang, want string }{
		{"en", "Transparency report for 2026-11-28: 2,000 groups and channels related to child abuse banned; 300 related to terrorism; 100 for other reasons; " +
			"1,234,567 actions in all (1,234 messages and files removed, 2,400 groups and channels taken down, 12 accounts suspended or banned, 5 restricted in some countries, 3 labelled); " +
			"median time to action 3 h; 1,500 appeals decided, 20 reversed; law-enforcement requests in 2026-11: 42. Details: https://kurir.example/transparency/2026-11-28"},
		{"id", "Laporan transparansi 2026-11-28: 2.000 grup dan kanal terkait pelecehan seksual anak diblokir; 300 terkait terorisme; 100 karena alasan lain; " +
			"total 1.234.567 tindakan (1.234 pesan dan berkas dihapus, 2.400 grup dan kanal ditutup, 12 akun ditangguhkan atau diblokir, 5 dibatasi di beberapa negara, 3 diberi label); " +
			"median waktu hingga tindakan 3 jam; 1.500 banding diputuskan, 20 dikabulkan; permintaan penegak hukum pada 2026-11: 42. Rincian: https://kurir.example/transparency/2026-11-28"},
		{"ru", "Отчёт о прозрачности за 2026-11-28. Заблокировано групп и каналов, связанных с сексуальным насилием над детьми: 2\u00a0000; с терроризмом: 300; по другим причинам: 100. " +
			"Всего мер: 1\u00a0234\u00a0567 (удалено сообщений и файлов: 1\u00a0234; закрыто групп и каналов: 2\u00a0400; приостановлено или заблокировано аккаунтов: 12; ограничено в отдельных странах: 5; помечено: 3). " +
			"Медианное время до принятия мер: 3 ч. Рассмотрено апелляций: 1\u00a0500, решений отменено: 20. Запросы правоохранительных органов за 2026-11: 42. Подробнее: https://kurir.example/transparency/2026-11-28"},
		{"ar", "تقرير الشفافية ليوم 2026-11-28: المجموعات والقنوات المحظورة المتعلقة بالاعتداء الجنسي على الأطفال: ٢٬٠٠٠؛ المتعلقة بالإرهاب: ٣٠٠؛ لأسباب أخرى: ١٠٠؛ " +
			"مجموع الإجراءات: ١٬٢٣٤٬٥٦٧ (الرسائل والملفات المحذوفة: ١٬٢٣٤، المجموعات والقنوات المغلقة: ٢٬٤٠٠، الحسابات الموقوفة أو المحظورة: ١٢، المقيدة في بعض البلدان: ٥، الموسومة بتحذير: ٣)؛ " +
			"الوقت الوسيط حتى اتخاذ الإجراء: ٣ س؛ الطعون التي بُتّ فيها: ١٬٥٠٠، أُلغي القرار في: ٢٠؛ طلبات جهات إنفاذ القانون في 2026-11: ٤٢. التفاصيل: https://kurir.example/transparency/2026-11-28"},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			if got := transparency.Summary(p, month, tt.lang, "https://kurir.example/transparency/2026-11-28"); got != tt.want {
				t.Errorf("\n got %s\nwant %s", got, tt.want)
			}
		})
	}

	// A quiet day: no actions, so no breakdown and no median.
	quiet := transparency.Public{Period: "2026-11-29"}
	want := "Transparency report for 2026-11-29: 0 groups and channels related to child abuse banned; 0 related to terrorism; 0 actions in all; " +
		"0 appeals decided, 0 reversed. Details: /transparency/2026-11-29"
	if got := transparency.Summary(quiet, nil, "en", "/transparency/2026-11-29"); got != want {
		t.Errorf("quiet day:\n got %s\nwant %s", got, want)
	}
}

func TestParseLanguages(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		ok   bool
	}{
		{"en,id,ru,ar", []string{"en", "id", "ru", "ar"}, true},
		{" RU , en,ru", []string{"ru", "en"}, true},
		{"en,fr", nil, false},
		{" , ", nil, false},
	}
	for _, tt := range tests {
		got, err := transparency.ParseLanguages(tt.in)
		if (err == nil) != tt.ok || fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("ParseLanguages(%q) = %q, %v; want %q (ok %v)", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// TestCatchUpOnTwoNodes runs the daily job on two nodes over one database
// at once, several times each: every day is stored once, and both nodes
// serve the same report.
func TestCatchUpOnTwoNodes(t *testing.T) {
	for engine, url := range sqldbtest.URLs(t) {
		t.Run(string(engine), func(t *testing.T) {
			ctx := t.Context()
			var dbs [2]*sqldb.DB
			for i := range dbs {
				db, err := sqldb.Open(ctx, url, nil)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				if err := db.Migrate(ctx, trSchema...); err != nil {
					t.Fatal(err)
				}
				dbs[i] = db
			}
			// Day d of five has d+1 channels taken down, through moderation.
			first := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
			w := newTrWorld(t, dbs[0], first.Add(10*time.Hour), transparency.Config{})
			owner, reporter := w.user("olga", kurir.RoleUser), w.user("rita", kurir.RoleUser)
			mona := moderation.Staff{ID: w.user("mona", kurir.RoleModerator), Role: kurir.RoleModerator}
			for d := range 5 {
				w.clock.Set(first.AddDate(0, 0, d).Add(10 * time.Hour))
				for i := range d + 1 {
					ch, _ := w.channel(owner, fmt.Sprintf("chan%d_%d", d, i))
					w.act(mona, w.report(reporter, moderation.Subject{Kind: moderation.SubjectChat, Chat: ch.ID}, moderation.ChildAbuse),
						moderation.ActParams{Kind: moderation.TakeDown})
				}
			}
			clock := clocktest.New(first.AddDate(0, 0, 7).Add(time.Hour)) // 7 finished days
			nodes := []*transparency.Service{
				transparency.NewService(dbs[0], clock, nil, transparency.Config{}),
				transparency.NewService(dbs[1], clock, nil, transparency.Config{}),
			}
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for i := range 8 {
				wg.Go(func() {
					_, err := nodes[i%2].CatchUp(ctx)
					errs <- err
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatalf("CatchUp: %v", err)
				}
			}
			rows, err := dbs[0].Read().QueryContext(ctx, `SELECT day, COUNT(*) FROM transparency_days GROUP BY day ORDER BY day`)
			if err != nil {
				t.Fatal(err)
			}
			var days []string
			for rows.Next() {
				var day string
				var n int
				if err := rows.Scan(&day, &n); err != nil {
					t.Fatal(err)
				}
				if n != 1 {
					t.Errorf("%s stored %d times", day, n)
				}
				days = append(days, day)
			}
			rows.Close()
			if len(days) != 7 || days[0] != "2026-11-20" || days[6] != "2026-11-26" {
				t.Errorf("stored days %v, want 2026-11-20 to 2026-11-26", days)
			}
			for d := range 7 {
				day := first.AddDate(0, 0, d)
				var got [2][]byte
				for i, node := range nodes {
					r, err := node.Day(ctx, day)
					if err != nil {
						t.Fatal(err)
					}
					got[i], _ = json.Marshal(r)
					want := int64(d + 1)
					if d >= 5 {
						want = 0
					}
					if got := r.Actions.ChatsTakenDown["child_abuse"]; got != want {
						t.Errorf("%s: %d takedowns, want %d", day.Format(time.DateOnly), got, want)
					}
				}
				if string(got[0]) != string(got[1]) {
					t.Errorf("%s differs between nodes:\n%s\n%s", day.Format(time.DateOnly), got[0], got[1])
				}
			}
		})
	}
}
