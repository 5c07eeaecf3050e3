package moderation

import (
	"context"
	"fmt"

	"kurir"
	"kurir/messaging"
	"kurir/sqldb"
)

// Order is a removal order from a competent authority, which kurir enforces
// at once where the authority's law applies, before its legal team reviews
// it (kurir/legal).
type Order struct {
	Subject   Subject  // a message, or a group or channel
	Category  Category // what the authority says the content is
	Countries []string // where it is withheld: the issuing country, or a group (EU)
	Authority string   // who issued it
	Reference string   // the request's case number
	LegalRef  string   // the law it rests on
	Facts     string   // what the order says, for the owner's statement of reasons
}

// EnforceOrder withholds the order's subject in its countries at once and
// records it as the decision on the subject's case, with the order as its
// signal: the owner gets a statement of reasons naming the law, and can
// appeal; their devices connected live are nudged (FrameDecision). It returns the action, which ReverseOrder undoes.
func (s *Service) EnforceOrder(ctx context.Context, o Order) (Action, error) {
	if o.Subject.Kind != SubjectMessage && o.Subject.Kind != SubjectChat {
		return Action{}, kurir.Invalid("targets", "wrong_subject", "A removal order names a message or a group or channel.")
	}
	if !o.Category.Valid() {
		o.Category = Terrorism
	}
	if len(o.Countries) == 0 {
		return Action{}, kurir.Invalid("jurisdiction", "no_scope", "A removal order applies in the issuing country.")
	}
	facts, err := cleanText("facts", "facts", o.Facts, 5000, false)
	if err != nil {
		return Action{}, err
	}
	t, err := s.target(ctx, o.Subject, Restrict)
	if err != nil {
		return Action{}, err
	}
	r, err := s.msg.Restrict(ctx, messaging.Restriction{Chat: t.subject.Chat, Seq: t.subject.Seq, Scope: o.Countries,
		Category: string(o.Category), Reason: "Removal order " + o.Reference + " of " + o.Authority, LegalRef: o.LegalRef})
	if err != nil {
		return Action{}, err
	}
	now := s.now()
	a := Action{Kind: Restrict, Territory: r.Scope, RestrictionID: r.ID, Subject: t.subject, Affected: t.affected, Category: o.Category,
		Ground: GroundIllegal, LegalReference: o.LegalRef, Facts: facts, ContentType: t.contentType, Excerpt: t.excerpt, At: now}
	err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		sig := signal{subject: t.subject, source: SourceLegal, category: o.Category, weight: 3,
			comment: fmt.Sprintf("Removal order %s of %s under %s", o.Reference, o.Authority, o.LegalRef), detail: t.excerpt}
		caseID, err := file(ctx, tx, sig, now)
		if err != nil {
			return err
		}
		a.CaseID = caseID
		return recordAction(ctx, tx, Staff{}, &a)
	})
	if err != nil {
		if uerr := s.msg.Unrestrict(ctx, r.ID); uerr != nil {
			s.log.Error("an order took effect but could not be recorded or undone", "order", o.Reference, "err", err, "undo", uerr)
		}
		return Action{}, err
	}
	// The owner is told at once, as of any decision (news.go); recordAction
	// has already made it news to them.
	s.tellAffected(ctx, a.Affected)
	return a, nil
}

// ReverseOrder lifts what EnforceOrder did, as the legal team decides when it
// contests an order or the authority withdraws it.
func (s *Service) ReverseOrder(ctx context.Context, by Staff, actionID int64, reason string) error {
	reason, err := cleanText("reason", "reason", reason, 2000, false)
	if err != nil {
		return err
	}
	return s.reverse(ctx, by, actionID, reason, "action.reverse_order", nil)
}
