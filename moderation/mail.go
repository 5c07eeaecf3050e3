package moderation

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"kurir"
	"kurir/legal/mail"
	"kurir/sqldb"
)

// Mail to notifiers (DSA Art. 16(4)–(5)): a receipt when their notice
// arrives, the decision when its case is decided, and word again if that
// decision is reversed. Each mail is written to the mod_mail outbox in the
// transaction that records what it reports, so a crash or a mail server
// that is down loses none of them; DeliverMail sends them later, with
// retries. A notifier who gave no address (allowed for child sexual abuse
// notices) gets none.

// Mail delivery bounds: the first retry comes after mailBackoff, each next
// one after twice as long up to mailBackoffMax, and a mail still refused
// after mailAttempts tries is given up. A claim keeps other nodes off a
// mail for mailClaim while one node sends it.
const (
	mailBackoff    = time.Minute
	mailBackoffMax = 6 * time.Hour
	mailAttempts   = 12
	mailClaim      = 5 * time.Minute
)

// mailText is the fixed wording of notifiers' mail in one language.
type mailText struct {
	receiptSubject   string // takes the notice ID
	receipt          string // takes the ID, the date, the location, the category and the status link
	decisionSubject  string // takes the notice ID
	decided          string // takes the ID and the location
	actioned         string // takes what was done
	dismissed        string
	automated, human string
	reversalSubject  string // takes the notice ID
	reversal         string // takes the ID, the location, the date and the reason
	actions          map[ActionKind]string
}

var mailTexts = map[string]mailText{
	"en": {
		receiptSubject:  "We received your notice %d",
		receipt:         "We received your notice %d on %s.\n\nLocation: %s\nCategory: %s\n\nWe will review it and write to you with our decision. You can follow it here:\n%s\n\nKeep this link to yourself: it is the only way to see your notice.",
		decisionSubject: "Decision on your notice %d",
		decided:         "We have decided on your notice %d about %s.",
		actioned:        "Decision: we took action: %s.",
		dismissed:       "Decision: we took no action. We reviewed the content and did not find it illegal or against our terms of service.",
		automated:       "This decision was taken by automated means.",
		human:           "This decision was taken by a person.",
		reversalSubject: "The decision on your notice %d was reversed",
		reversal:        "The decision we took on your notice %d about %s was reversed on %s, and the content is available again.\n\nReason: %s",
		actions: map[ActionKind]string{RemoveMessage: "the message was removed", RemoveMedia: "the file was removed everywhere it was posted",
			TakeDown: "the group or channel was taken down", Restrict: "the content was withheld in some countries",
			Suspend: "the account was suspended", Ban: "the account was banned", Label: "the group or channel was labelled with a warning"},
	},
	"id": {
		receiptSubject:  "Pemberitahuan Anda %d telah kami terima",
		receipt:         "Kami menerima pemberitahuan Anda %d pada %s.\n\nLokasi: %s\nKategori: %s\n\nKami akan meninjaunya dan mengabari Anda tentang keputusan kami. Anda dapat mengikutinya di sini:\n%s\n\nJangan bagikan tautan ini: hanya dengan tautan ini Anda dapat melihat pemberitahuan Anda.",
		decisionSubject: "Keputusan atas pemberitahuan Anda %d",
		decided:         "Kami telah memutuskan pemberitahuan Anda %d tentang %s.",
		actioned:        "Keputusan: kami mengambil tindakan: %s.",
		dismissed:       "Keputusan: kami tidak mengambil tindakan. Kami telah meninjau konten tersebut dan tidak menemukan bahwa konten itu ilegal atau melanggar ketentuan layanan kami.",
		automated:       "Keputusan ini diambil secara otomatis.",
		human:           "Keputusan ini diambil oleh seorang manusia.",
		reversalSubject: "Keputusan atas pemberitahuan Anda %d dibatalkan",
		reversal:        "Keputusan kami atas pemberitahuan Anda %d tentang %s dibatalkan pada %s, dan konten tersebut tersedia kembali.\n\nAlasan: %s",
		actions: map[ActionKind]string{RemoveMessage: "pesan tersebut dihapus", RemoveMedia: "berkas tersebut dihapus di semua tempat ia dikirim",
			TakeDown: "grup atau kanal tersebut diturunkan", Restrict: "konten tersebut ditahan di beberapa negara",
			Suspend: "akun tersebut ditangguhkan", Ban: "akun tersebut diblokir", Label: "grup atau kanal tersebut diberi label peringatan"},
	},
	"ru": {
		receiptSubject:  "Мы получили ваше уведомление %d",
		receipt:         "Мы получили ваше уведомление %d %s.\n\nГде: %s\nКатегория: %s\n\nМы рассмотрим его и сообщим вам о решении. Следить за ним можно здесь:\n%s\n\nНикому не передавайте эту ссылку: только по ней можно увидеть ваше уведомление.",
		decisionSubject: "Решение по вашему уведомлению %d",
		decided:         "Мы приняли решение по вашему уведомлению %d о %s.",
		actioned:        "Решение: мы приняли меры: %s.",
		dismissed:       "Решение: мы не приняли мер. Мы рассмотрели материал и не нашли в нём ничего незаконного или противоречащего нашим условиям.",
		automated:       "Это решение принято автоматически.",
		human:           "Это решение принял человек.",
		reversalSubject: "Решение по вашему уведомлению %d отменено",
		reversal:        "Решение по вашему уведомлению %d о %s отменено %s, и материал снова доступен.\n\nПричина: %s",
		actions: map[ActionKind]string{RemoveMessage: "сообщение удалено", RemoveMedia: "файл удалён везде, где он был опубликован",
			TakeDown: "группа или канал заблокированы", Restrict: "материал ограничен в некоторых странах",
			Suspend: "аккаунт временно заблокирован", Ban: "аккаунт заблокирован", Label: "группа или канал помечены предупреждением"},
	},
	"ar": {
		receiptSubject:  "استلمنا بلاغك رقم %d",
		receipt:         "استلمنا بلاغك رقم %d في %s.\n\nالموقع: %s\nالفئة: %s\n\nسنراجعه ونراسلك بقرارنا. يمكنك متابعته هنا:\n%s\n\nاحتفظ بهذا الرابط لنفسك: فهو الطريقة الوحيدة لرؤية بلاغك.",
		decisionSubject: "القرار بشأن بلاغك رقم %d",
		decided:         "اتخذنا قرارًا بشأن بلاغك رقم %d عن %s.",
		actioned:        "القرار: اتخذنا إجراءً: %s.",
		dismissed:       "القرار: لم نتخذ أي إجراء. راجعنا المحتوى ولم نجده غير قانوني أو مخالفًا لشروط الخدمة.",
		automated:       "اتُّخذ هذا القرار بوسائل آلية.",
		human:           "اتخذ هذا القرار شخص.",
		reversalSubject: "أُلغي القرار بشأن بلاغك رقم %d",
		reversal:        "أُلغي القرار الذي اتخذناه بشأن بلاغك رقم %d عن %s في %s، وعاد المحتوى متاحًا.\n\nالسبب: %s",
		actions: map[ActionKind]string{RemoveMessage: "تمت إزالة الرسالة", RemoveMedia: "تمت إزالة الملف من كل مكان نُشر فيه",
			TakeDown: "تم حجب المجموعة أو القناة", Restrict: "تم حجب المحتوى في بعض البلدان",
			Suspend: "تم تعليق الحساب", Ban: "تم حظر الحساب", Label: "تم وسم المجموعة أو القناة بتحذير"},
	},
}

// mailDate is how a mail writes a moment: the same in every language.
func mailDate(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// queueMail writes one mail to the outbox, in tx.
func queueMail(ctx context.Context, tx *sqldb.Tx, notice int64, kind, to, subject, body string, at time.Time) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO mod_mail (notice_id, kind, rcpt, subject, body, next_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $6)`,
		notice, kind, to, subject, body, sqldb.Micros(at)); err != nil {
		return fmt.Errorf("queue %s mail: %w", kind, err)
	}
	return nil
}

// queueReceipt writes a notice's receipt to the outbox, with the link that
// follows the notice (site, then the status path with its token).
func queueReceipt(ctx context.Context, tx *sqldb.Tx, id int64, to, lang, location string, cat Category, site, token string, at time.Time) error {
	if to == "" {
		return nil
	}
	w := mailTexts[PickLanguage(lang)]
	link := site + "/notices/status?id=" + strconv.FormatInt(id, 10) + "&token=" + token
	return queueMail(ctx, tx, id, "receipt", to, fmt.Sprintf(w.receiptSubject, id),
		fmt.Sprintf(w.receipt, id, mailDate(at), location, cat.Label(PickLanguage(lang)), link), at)
}

// notifiers returns the notices filed into case caseID whose notifier gave
// an address to write to.
func notifiers(ctx context.Context, tx *sqldb.Tx, caseID int64) ([]noticeContact, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, email, lang, location FROM mod_notices WHERE case_id = $1 AND email <> '' ORDER BY id`, caseID)
	if err != nil {
		return nil, fmt.Errorf("notifiers: %w", err)
	}
	defer rows.Close()
	var out []noticeContact
	for rows.Next() {
		var n noticeContact
		if err := rows.Scan(&n.id, &n.email, &n.lang, &n.location); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

type noticeContact struct {
	id                    int64
	email, lang, location string
}

// queueDecisionMail tells the notifiers of case caseID its decision, in tx:
// the action a, or, if a is nil, that no action was taken. Call it in the
// transaction that resolves the case.
func queueDecisionMail(ctx context.Context, tx *sqldb.Tx, caseID int64, a *Action, at time.Time) error {
	ns, err := notifiers(ctx, tx, caseID)
	if err != nil {
		return err
	}
	for _, n := range ns {
		w := mailTexts[PickLanguage(n.lang)]
		body := fmt.Sprintf(w.decided, n.id, n.location) + "\n\n"
		if a == nil {
			body += w.dismissed + "\n" + w.human
		} else {
			body += fmt.Sprintf(w.actioned, w.actions[a.Kind]) + "\n"
			if a.AutomatedDecision {
				body += w.automated
			} else {
				body += w.human
			}
		}
		if err := queueMail(ctx, tx, n.id, "decision", n.email, fmt.Sprintf(w.decisionSubject, n.id), body, at); err != nil {
			return err
		}
	}
	return nil
}

// queueReversalMail tells the notifiers of an action's case that it was
// reversed, and why, in tx: the transaction that reverses it.
func queueReversalMail(ctx context.Context, tx *sqldb.Tx, a Action, reason string, at time.Time) error {
	ns, err := notifiers(ctx, tx, a.CaseID)
	if err != nil {
		return err
	}
	for _, n := range ns {
		w := mailTexts[PickLanguage(n.lang)]
		if err := queueMail(ctx, tx, n.id, "reversal", n.email, fmt.Sprintf(w.reversalSubject, n.id),
			fmt.Sprintf(w.reversal, n.id, n.location, mailDate(at), reason), at); err != nil {
			return err
		}
	}
	return nil
}

// DeliverMail sends at most batch of the notifiers' mails that are due and
// returns how many it sent. A mail the sender refuses for now is tried
// again later, each time after twice as long; one refused as invalid, or
// still refused after 12 tries, is given up and logged. It does nothing
// without Config.Mail. Several nodes may run it at once: each mail is
// claimed before it is sent, so it goes out once unless a node dies
// between sending it and recording that it did.
func (s *Service) DeliverMail(ctx context.Context, batch int) (int, error) {
	if s.cfg.Mail == nil {
		return 0, nil
	}
	now := s.now()
	type due struct {
		id, attempts, next int64
		to, subject, body  string
	}
	var todo []due
	rows, err := s.db.Read().QueryContext(ctx, `SELECT id, attempts, next_at, rcpt, subject, body FROM mod_mail
		WHERE state = 'pending' AND next_at <= $1 ORDER BY next_at, id LIMIT $2`, sqldb.Micros(now), batch)
	if err != nil {
		return 0, fmt.Errorf("mail due: %w", err)
	}
	for rows.Next() {
		var d due
		if err := rows.Scan(&d.id, &d.attempts, &d.next, &d.to, &d.subject, &d.body); err != nil {
			rows.Close()
			return 0, err
		}
		todo = append(todo, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	sent := 0
	for _, d := range todo {
		claimed := false
		err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			res, err := tx.ExecContext(ctx, `UPDATE mod_mail SET next_at = $3 WHERE id = $1 AND state = 'pending' AND next_at = $2`,
				d.id, d.next, sqldb.Micros(now.Add(mailClaim)))
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			claimed = n == 1
			return nil
		})
		if err != nil {
			return sent, fmt.Errorf("claim mail %d: %w", d.id, err)
		}
		if !claimed {
			continue // another node has it
		}
		serr := s.cfg.Mail.Send(ctx, mail.Message{To: d.to, Subject: d.subject, Body: d.body})
		if serr != nil && ctx.Err() != nil {
			return sent, ctx.Err() // the claim runs out and the mail is tried again
		}
		attempts := d.attempts + 1
		err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			var err error
			switch {
			case serr == nil:
				// The body goes: a receipt's holds the notice's token, kept
				// otherwise only as a hash.
				_, err = tx.ExecContext(ctx, `UPDATE mod_mail SET state = 'sent', body = '', attempts = $2, last_error = '', sent_at = $3 WHERE id = $1`,
					d.id, attempts, sqldb.Micros(now))
			case kurir.ErrorCode(serr) == kurir.EInvalid || attempts >= mailAttempts:
				_, err = tx.ExecContext(ctx, `UPDATE mod_mail SET state = 'failed', body = '', attempts = $2, last_error = $3 WHERE id = $1`,
					d.id, attempts, excerpt(serr.Error()))
			default:
				wait := min(mailBackoffMax, mailBackoff<<(attempts-1))
				_, err = tx.ExecContext(ctx, `UPDATE mod_mail SET attempts = $2, last_error = $3, next_at = $4 WHERE id = $1`,
					d.id, attempts, excerpt(serr.Error()), sqldb.Micros(now.Add(wait)))
			}
			return err
		})
		if err != nil {
			return sent, fmt.Errorf("record mail %d: %w", d.id, err)
		}
		if serr != nil {
			s.log.Warn("mail to a notifier not sent", "mail", d.id, "attempt", attempts, "err", serr)
			continue
		}
		sent++
	}
	return sent, nil
}

// RunMail delivers the notifiers' mail every interval until ctx is done.
func (s *Service) RunMail(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for {
			n, err := s.DeliverMail(ctx, 100)
			if err != nil {
				if ctx.Err() == nil {
					s.log.Warn("moderation mail", "err", err)
				}
				break
			}
			if n < 100 {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// MailStatus is how the mail about a notice is getting on, for staff.
type MailStatus struct {
	Kind     string // receipt, decision or reversal
	State    string // pending, sent or failed
	Attempts int64
	Error    string // the last refusal, if any
	Created  time.Time
	Sent     time.Time // zero unless sent
}
