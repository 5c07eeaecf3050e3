package moderation

import (
	"context"
	"fmt"
	"strings"
	"time"

	"kurir"
	"kurir/messaging"
	"kurir/sqldb"
)

// IntakeDetection files the flags and holds automated detection recorded
// since it last ran (kurir/safety writes them to safety_signals) into
// cases, at most batch of them, and returns how many it filed. Blocks are
// not filed (what was blocked was never published), except a hash-bank
// block, filed against the uploader, and a classifier's or hash bank's
// block that took down a file or message already stored, which is
// recorded as an automated decision on its case. Each signal is about
// the chat whose title, description or @name it concerns, or else the
// account that wrote the text or uploaded the file. It is safe to run on
// several nodes at once: the cursor moves in the transaction that files.
func (s *Service) IntakeDetection(ctx context.Context, batch int) (int, error) {
	n := 0
	now := s.now()
	var automated []automatedRemoval
	err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		n, automated = 0, nil
		var last int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(last_id), 0) FROM mod_intake WHERE source = 'safety_signals'`).Scan(&last); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, source, action, categories, rules, author_id, chat_id, seq, media_id, field, excerpt
			FROM safety_signals WHERE id > $1 ORDER BY id LIMIT $2`, last, batch)
		if err != nil {
			return fmt.Errorf("read detection signals: %w", err)
		}
		type row struct {
			id                                          int64
			source, action, cats, rules, field, excerpt string
			author                                      kurir.UserID
			chat                                        messaging.ChatID
			seq, media                                  int64
		}
		var todo []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.id, &r.source, &r.action, &r.cats, &r.rules, &r.author, &r.chat, &r.seq, &r.media, &r.field, &r.excerpt); err != nil {
				rows.Close()
				return err
			}
			todo = append(todo, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil || len(todo) == 0 {
			return err
		}
		for _, r := range todo {
			last = r.id
			// A classifier's block already took an uploaded file or a
			// message down, by automated means: it is owed a statement and
			// an appeal. So is a hash bank's block of a file already stored
			// (a large photo hashed after upload, or a file rechecked
			// against entries banked later).
			classifierBlock := r.action == "block" && (r.source == string(SourceClassifier) && (r.media != 0 || r.chat != 0 && r.seq != 0) ||
				r.source == string(SourceHashBank) && r.media != 0)
			// A hash-bank block stored nothing, but the uploader tried to
			// share known prohibited content: a case about the account.
			bankBlock := r.action == "block" && r.source == string(SourceHashBank) && r.author != 0
			if r.action != "flag" && r.action != "hold" && !classifierBlock && !bankBlock {
				continue
			}
			sig := signal{source: Source(r.source), weight: 1, category: OtherCategory,
				detail: excerpt(fmt.Sprintf("%s %s (%s): %s", r.action, r.field, r.rules, r.excerpt))}
			for _, c := range strings.Split(r.cats, ",") {
				sig.category = moreSevere(sig.category, FromDetection(c))
			}
			switch sig.source {
			case SourceHashBank, SourceTextRule, SourceClassifier:
			default:
				sig.source = SourceClassifier
			}
			if r.media != 0 {
				sig.subject = Subject{Kind: SubjectMedia, Media: r.media}
			} else if r.chat != 0 && r.seq != 0 {
				sig.subject = Subject{Kind: SubjectMessage, Chat: r.chat, Seq: r.seq}
				var members int64
				if err := tx.QueryRowContext(ctx, `SELECT member_count FROM chats WHERE id = $1`, r.chat).Scan(&members); err == nil {
					sig.reach = members
				}
			} else if r.chat != 0 && (r.field == "title" || r.field == "about" || r.field == "username") {
				sig.subject = Subject{Kind: SubjectChat, Chat: r.chat}
				var members int64
				if err := tx.QueryRowContext(ctx, `SELECT member_count FROM chats WHERE id = $1`, r.chat).Scan(&members); err == nil {
					sig.reach = members
				}
			} else if r.author != 0 {
				sig.subject = Subject{Kind: SubjectUser, User: r.author}
			} else {
				continue
			}
			caseID, err := file(ctx, tx, sig, now)
			if err != nil {
				return err
			}
			if classifierBlock {
				kind := RemoveMedia
				if sig.subject.Kind == SubjectMessage {
					kind = RemoveMessage
				}
				automated = append(automated, automatedRemoval{caseID: caseID, kind: kind, subject: sig.subject, category: sig.category, reason: r.rules})
			}
			n++
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO mod_intake (source, last_id) VALUES ('safety_signals', $1)
			ON CONFLICT (source) DO UPDATE SET last_id = excluded.last_id`, last)
		return err
	})
	if err != nil {
		return 0, err
	}
	for _, r := range automated {
		if err := s.recordAutomated(ctx, r, now); err != nil {
			s.log.Error("record an automated removal", "case", r.caseID, "subject", r.subject.Key(), "err", err)
		}
	}
	return n, nil
}

// automatedRemoval is a file or message automated means took down, to be
// recorded as a decision.
type automatedRemoval struct {
	caseID   int64
	kind     ActionKind // RemoveMedia or RemoveMessage
	subject  Subject
	category Category
	reason   string
}

// recordAutomated records a removal that automated means decided and
// carried out as the decision on its case, so its owner gets a statement of
// reasons that says so, and can appeal to a person.
func (s *Service) recordAutomated(ctx context.Context, r automatedRemoval, now time.Time) error {
	t, err := s.target(ctx, r.subject, r.kind)
	if err != nil {
		return err
	}
	// A template, so that the owner reads the facts in their language.
	tpl := TemplateAutomatedClassifier
	if r.kind == RemoveMessage {
		tpl = TemplateAutomatedClassifierMessage
	}
	args := map[string]string{"rules": excerpt(r.reason)}
	a := Action{CaseID: r.caseID, Kind: r.kind, Subject: t.subject, Affected: t.affected, Category: r.category, Ground: GroundTerms,
		Facts: excerpt(TemplateText(tpl, "en", args)), Template: tpl, TemplateArgs: args,
		ContentType: t.contentType, Excerpt: t.excerpt, AutomatedDecision: true, At: now}
	if err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error { return recordAction(ctx, tx, Staff{}, &a) }); err != nil {
		return err
	}
	s.tellAffected(ctx, a.Affected)
	return nil
}

// RunIntake files detection signals every interval until ctx is done.
func (s *Service) RunIntake(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for {
			n, err := s.IntakeDetection(ctx, 500)
			if err != nil {
				if ctx.Err() == nil {
					s.log.Warn("moderation intake", "err", err)
				}
				break
			}
			if n < 500 {
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
