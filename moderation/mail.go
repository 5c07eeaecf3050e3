package moderation

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/textproto"
	"strconv"
	"strings"
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
// after mailAttempts tries is given up. Sending one mail is given up after
// mailSendLimit, whatever the sender's own timeout, and a claim keeps other
// nodes off a mail for mailClaim while one node sends it: longer than any
// send, so that a slow mail server cannot make two nodes send one mail.
const (
	mailBackoff    = time.Minute
	mailBackoffMax = 6 * time.Hour
	mailAttempts   = 12
	mailSendLimit  = 2 * time.Minute
	mailClaim      = 4 * mailSendLimit
)

// mailText is the fixed wording of notifiers' mail in one language. Mail
// repeats nothing the notifier wrote (their location or explanation):
// anyone may file a notice with any address, and the service must not
// carry a stranger's words to it under its own name. A notice is named by
// its ID, and its status link shows the rest to the person who filed it.
type mailText struct {
	receiptSubject   string // takes the notice ID
	receipt          string // takes the ID, the date, the category and the status link
	decisionSubject  string // takes the notice ID
	decided          string // takes the ID
	actioned         string // takes what was done
	dismissed        string
	automated, human string
	reversalSubject  string // takes the notice ID
	reversal         string // takes the ID, the date and one of byAppeal or onReview
	// byAppeal and onReview say why a decision was reversed: the affected
	// user's appeal was upheld, or staff reviewed it of their own accord.
	// Staff's own words stay out of the mail: they are written to or about
	// the affected user.
	byAppeal, onReview string
	actions            map[ActionKind]string
}

var mailTexts = map[string]mailText{
	"en": {
		receiptSubject:  "We received your notice %d",
		receipt:         "We received your notice %d on %s.\n\nCategory: %s\n\nWe will review it and write to you with our decision. You can follow it, and see what you reported, here:\n%s\n\nKeep this link to yourself: it is the only way to see your notice.",
		decisionSubject: "Decision on your notice %d",
		decided:         "We have decided on your notice %d.",
		actioned:        "Decision: we took action: %s.",
		dismissed:       "Decision: we took no action. We reviewed the content and did not find it illegal or against our terms of service.",
		automated:       "This decision was taken by automated means.",
		human:           "This decision was taken by a person.",
		reversalSubject: "The decision on your notice %d was reversed",
		reversal:        "The decision we took on your notice %d was reversed on %s, and the content is available again.\n\n%s",
		byAppeal:        "It was reversed after the affected user's appeal.",
		onReview:        "It was reversed on review.",
		actions: map[ActionKind]string{RemoveMessage: "the message was removed", RemoveMedia: "the file was removed everywhere it was posted",
			TakeDown: "the group or channel was taken down", Restrict: "the content was withheld in some countries",
			Suspend: "the account was suspended", Ban: "the account was banned", Label: "the group or channel was labelled with a warning"},
	},
	"id": {
		receiptSubject:  "Pemberitahuan Anda %d telah kami terima",
		receipt:         "Kami menerima pemberitahuan Anda %d pada %s.\n\nKategori: %s\n\nKami akan meninjaunya dan mengabari Anda tentang keputusan kami. Anda dapat mengikutinya, dan melihat apa yang Anda laporkan, di sini:\n%s\n\nJangan bagikan tautan ini: hanya dengan tautan ini Anda dapat melihat pemberitahuan Anda.",
		decisionSubject: "Keputusan atas pemberitahuan Anda %d",
		decided:         "Kami telah memutuskan pemberitahuan Anda %d.",
		actioned:        "Keputusan: kami mengambil tindakan: %s.",
		dismissed:       "Keputusan: kami tidak mengambil tindakan. Kami telah meninjau konten tersebut dan tidak menemukan bahwa konten itu ilegal atau melanggar ketentuan layanan kami.",
		automated:       "Keputusan ini diambil secara otomatis.",
		human:           "Keputusan ini diambil oleh seorang manusia.",
		reversalSubject: "Keputusan atas pemberitahuan Anda %d dibatalkan",
		reversal:        "Keputusan kami atas pemberitahuan Anda %d dibatalkan pada %s, dan konten tersebut tersedia kembali.\n\n%s",
		byAppeal:        "Keputusan ini dibatalkan setelah banding dari pengguna yang terdampak.",
		onReview:        "Keputusan ini dibatalkan setelah ditinjau ulang.",
		actions: map[ActionKind]string{RemoveMessage: "pesan tersebut dihapus", RemoveMedia: "berkas tersebut dihapus di semua tempat ia dikirim",
			TakeDown: "grup atau kanal tersebut diturunkan", Restrict: "konten tersebut ditahan di beberapa negara",
			Suspend: "akun tersebut ditangguhkan", Ban: "akun tersebut diblokir", Label: "grup atau kanal tersebut diberi label peringatan"},
	},
	"ru": {
		receiptSubject:  "Мы получили ваше уведомление %d",
		receipt:         "Мы получили ваше уведомление %d %s.\n\nКатегория: %s\n\nМы рассмотрим его и сообщим вам о решении. Следить за ним и увидеть, о чём вы сообщили, можно здесь:\n%s\n\nНикому не передавайте эту ссылку: только по ней можно увидеть ваше уведомление.",
		decisionSubject: "Решение по вашему уведомлению %d",
		decided:         "Мы приняли решение по вашему уведомлению %d.",
		actioned:        "Решение: мы приняли меры: %s.",
		dismissed:       "Решение: мы не приняли мер. Мы рассмотрели материал и не нашли в нём ничего незаконного или противоречащего нашим условиям.",
		automated:       "Это решение принято автоматически.",
		human:           "Это решение принял человек.",
		reversalSubject: "Решение по вашему уведомлению %d отменено",
		reversal:        "Решение по вашему уведомлению %d отменено %s, и материал снова доступен.\n\n%s",
		byAppeal:        "Решение отменено по жалобе пользователя, которого оно касалось.",
		onReview:        "Решение отменено после повторной проверки.",
		actions: map[ActionKind]string{RemoveMessage: "сообщение удалено", RemoveMedia: "файл удалён везде, где он был опубликован",
			TakeDown: "группа или канал заблокированы", Restrict: "материал ограничен в некоторых странах",
			Suspend: "аккаунт временно заблокирован", Ban: "аккаунт заблокирован", Label: "группа или канал помечены предупреждением"},
	},
	"ar": {
		receiptSubject:  "استلمنا بلاغك رقم %d",
		receipt:         "استلمنا بلاغك رقم %d في %s.\n\nالفئة: %s\n\nسنراجعه ونراسلك بقرارنا. يمكنك متابعته ورؤية ما أبلغت عنه هنا:\n%s\n\nاحتفظ بهذا الرابط لنفسك: فهو الطريقة الوحيدة لرؤية بلاغك.",
		decisionSubject: "القرار بشأن بلاغك رقم %d",
		decided:         "اتخذنا قرارًا بشأن بلاغك رقم %d.",
		actioned:        "القرار: اتخذنا إجراءً: %s.",
		dismissed:       "القرار: لم نتخذ أي إجراء. راجعنا المحتوى ولم نجده غير قانوني أو مخالفًا لشروط الخدمة.",
		automated:       "اتُّخذ هذا القرار بوسائل آلية.",
		human:           "اتخذ هذا القرار شخص.",
		reversalSubject: "أُلغي القرار بشأن بلاغك رقم %d",
		reversal:        "أُلغي القرار الذي اتخذناه بشأن بلاغك رقم %d في %s، وعاد المحتوى متاحًا.\n\n%s",
		byAppeal:        "أُلغي القرار بعد تظلّم المستخدم المعني.",
		onReview:        "أُلغي القرار بعد إعادة المراجعة.",
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

// receiptsPerDay bounds the receipts sent to one address in a day. The
// notice form takes any address without proof that it is the sender's, so
// without a bound it would make the service mail whoever a stranger names
// as often as they like; notices past the bound are still accepted, only
// not confirmed by mail (the status link is in the form's answer).
const receiptsPerDay = 5

// queueReceipt writes a notice's receipt to the outbox, with the link that
// follows the notice (site, then the status path with its token), unless
// the address already had receiptsPerDay receipts in the last day.
func queueReceipt(ctx context.Context, tx *sqldb.Tx, id int64, to, lang string, cat Category, site, token string, at time.Time) error {
	if to == "" {
		return nil
	}
	var recent int64
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM mod_mail WHERE lower(rcpt) = $1 AND kind = 'receipt' AND created_at > $2`,
		strings.ToLower(to), sqldb.Micros(at.Add(-24*time.Hour))).Scan(&recent); err != nil {
		return fmt.Errorf("receipts to the address: %w", err)
	}
	if recent >= receiptsPerDay {
		return nil
	}
	w := mailTexts[PickLanguage(lang)]
	link := site + "/notices/status?id=" + strconv.FormatInt(id, 10) + "&token=" + token
	return queueMail(ctx, tx, id, "receipt", to, fmt.Sprintf(w.receiptSubject, id),
		fmt.Sprintf(w.receipt, id, mailDate(at), cat.Label(PickLanguage(lang)), link), at)
}

// notifiers returns the notices filed into case caseID whose notifier gave
// an address to write to.
func notifiers(ctx context.Context, tx *sqldb.Tx, caseID int64) ([]noticeContact, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, email, lang FROM mod_notices WHERE case_id = $1 AND email <> '' ORDER BY id`, caseID)
	if err != nil {
		return nil, fmt.Errorf("notifiers: %w", err)
	}
	defer rows.Close()
	var out []noticeContact
	for rows.Next() {
		var n noticeContact
		if err := rows.Scan(&n.id, &n.email, &n.lang); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

type noticeContact struct {
	id          int64
	email, lang string
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
		body := fmt.Sprintf(w.decided, n.id) + "\n\n"
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
// reversed, in tx: the transaction that reverses it, after any appeal that
// led to it is decided. The mail says only whether the affected user's
// appeal was upheld, as the notice's status does (Reversals).
func queueReversalMail(ctx context.Context, tx *sqldb.Tx, a Action, at time.Time) error {
	ns, err := notifiers(ctx, tx, a.CaseID)
	if err != nil || len(ns) == 0 {
		return err
	}
	var byAppeal bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM mod_appeals WHERE action_id = $1 AND state = $2)`,
		a.ID, AppealUpheld).Scan(&byAppeal); err != nil {
		return fmt.Errorf("reversal by appeal: %w", err)
	}
	for _, n := range ns {
		w := mailTexts[PickLanguage(n.lang)]
		why := w.onReview
		if byAppeal {
			why = w.byAppeal
		}
		if err := queueMail(ctx, tx, n.id, "reversal", n.email, fmt.Sprintf(w.reversalSubject, n.id),
			fmt.Sprintf(w.reversal, n.id, mailDate(at), why), at); err != nil {
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
		claimed, claim := false, sqldb.Micros(now.Add(mailClaim))
		err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			res, err := tx.ExecContext(ctx, `UPDATE mod_mail SET next_at = $3 WHERE id = $1 AND state = 'pending' AND next_at = $2`,
				d.id, d.next, claim)
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
		sctx, cancel := context.WithTimeout(ctx, mailSendLimit)
		serr := s.cfg.Mail.Send(sctx, mail.Message{To: d.to, Subject: d.subject, Body: d.body})
		cancel()
		if serr != nil && ctx.Err() != nil {
			return sent, ctx.Err() // the claim runs out and the mail is tried again
		}
		attempts, why := d.attempts+1, mailError(serr)
		kept := true
		err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			// Each update holds only while the claim is still this node's:
			// past it, another node owns the mail and records its own try.
			var res sql.Result
			var err error
			switch {
			case serr == nil:
				// The body goes: a receipt's holds the notice's token, kept
				// otherwise only as a hash.
				res, err = tx.ExecContext(ctx, `UPDATE mod_mail SET state = 'sent', body = '', attempts = $2, last_error = '', sent_at = $3
					WHERE id = $1 AND state = 'pending' AND next_at = $4`, d.id, attempts, sqldb.Micros(now), claim)
			case kurir.ErrorCode(serr) == kurir.EInvalid || attempts >= mailAttempts:
				res, err = tx.ExecContext(ctx, `UPDATE mod_mail SET state = 'failed', body = '', attempts = $2, last_error = $3
					WHERE id = $1 AND state = 'pending' AND next_at = $4`, d.id, attempts, why, claim)
			default:
				wait := min(mailBackoffMax, mailBackoff<<(attempts-1))
				res, err = tx.ExecContext(ctx, `UPDATE mod_mail SET attempts = $2, last_error = $3, next_at = $4
					WHERE id = $1 AND state = 'pending' AND next_at = $5`, d.id, attempts, why, sqldb.Micros(now.Add(wait)), claim)
			}
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			kept = n == 1
			return nil
		})
		if err != nil {
			return sent, fmt.Errorf("record mail %d: %w", d.id, err)
		}
		if !kept {
			s.log.Warn("mail to a notifier: the claim ran out before the result was recorded", "mail", d.id, "sent", serr == nil)
		}
		if serr != nil {
			// The server's reply quotes the address: the log gets the
			// mail's ID and the reply code only.
			s.log.Warn("mail to a notifier not sent", "mail", d.id, "attempt", attempts, "error", why)
			continue
		}
		sent++
	}
	return sent, nil
}

// mailError is what is kept of a refusal to send a mail: its error code
// and reason and, if the mail server replied, the SMTP reply code, such as
// "invalid/refused_address (smtp 550)". The server's reply text is left
// out: it usually quotes the recipient's address.
func mailError(err error) string {
	if err == nil {
		return ""
	}
	out := string(kurir.ErrorCode(err))
	if r := kurir.ErrorReason(err); r != "" {
		out += "/" + r
	}
	if errors.Is(err, context.DeadlineExceeded) {
		out += " (timed out)"
	}
	var reply *textproto.Error
	if errors.As(err, &reply) {
		out += fmt.Sprintf(" (smtp %d)", reply.Code)
	}
	return out
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
