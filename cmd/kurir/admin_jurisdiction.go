package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"kurir"
	"kurir/jurisdiction"
	"kurir/moderation"
)

const adminJurisdictionHelp = `Usage: kurir admin jurisdiction <command> [flags] [arguments]

What the law of each country asks of kurir, as the operator decides it:
the state of each market, and the country rules that say which categories
of content are illegal where. Changes act as the operator (an admin with
no account), are written to the audit log, and apply on every running
server within a second.

  list                           the markets with a policy and the country rules
  set CC --status open|restricted|withdrawn [--off FEATURE,...] [--note TEXT]
                                 set country CC's market: restricted turns the
                                 features named by --off off there (signup,
                                 discovery, public_chats, uploads); withdrawn
                                 refuses everyone there sign-up, login and use,
                                 keeping their accounts and data; open with no
                                 note removes the policy
  rule add SCOPE CATEGORY --law TEXT
                                 record that CATEGORY (such as hate_speech) is
                                 illegal in SCOPE, a country (DE) or a group
                                 (EU, EEA), under the law TEXT
  rule remove ID                 remove a country rule
  where CATEGORY                 the countries whose rules make CATEGORY illegal:
                                 where a restriction by country rules withholds it

CC is an ISO 3166-1 alpha-2 country code, such as DE or IR.

Run "kurir admin jurisdiction <command> --help" for a command's flags.
`

func (a *adminCmd) jurisdiction(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		if len(args) == 0 {
			fmt.Fprint(a.stderr, adminJurisdictionHelp)
			return usagef("admin jurisdiction: name a command, e.g. kurir admin jurisdiction list")
		}
		fmt.Fprint(a.stdout, adminJurisdictionHelp)
		return nil
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "list":
		return a.jurList(ctx, rest)
	case "set":
		return a.jurSet(ctx, rest)
	case "rule":
		if len(rest) == 0 || (rest[0] != "add" && rest[0] != "remove") {
			fmt.Fprint(a.stderr, adminJurisdictionHelp)
			if len(rest) == 0 {
				return usagef("admin jurisdiction rule: say add or remove")
			}
			return usagef("admin jurisdiction rule: unknown command %q; say add or remove", rest[0])
		}
		if rest[0] == "add" {
			return a.jurRuleAdd(ctx, rest[1:])
		}
		return a.jurRuleRemove(ctx, rest[1:])
	case "where":
		return a.jurWhere(ctx, rest)
	default:
		fmt.Fprint(a.stderr, adminJurisdictionHelp)
		return usagef("admin jurisdiction: unknown command %q", cmd)
	}
}

// jurSetup parses a command's flags (the common ones and the caller's
// through extra), checks it was given nargs arguments, and opens the
// jurisdiction service. The caller calls done.
func (a *adminCmd) jurSetup(ctx context.Context, name, help string, args []string, nargs int, extra func(envFlags)) (*jurisdiction.Service, func(), []string, error) {
	db, log, rest, err := a.open(ctx, "admin jurisdiction "+name, help, args, nargs, extra)
	if err != nil {
		return nil, nil, nil, err
	}
	// No IP table: the command line places nobody, it only changes policy.
	svc := jurisdiction.NewService(db, nil, kurir.SystemClock{}, log.With("component", "jurisdiction"))
	return svc, func() { db.Close() }, rest, nil
}

// byWhom says who made a change: an admin's account, or the operator's
// command line.
func byWhom(id kurir.UserID) string {
	if id == 0 {
		return "operator"
	}
	return fmt.Sprintf("user %d", id)
}

func (a *adminCmd) jurList(ctx context.Context, args []string) error {
	svc, done, _, err := a.jurSetup(ctx, "list", "Usage: kurir admin jurisdiction list [flags]\n\nLists the markets with a policy (every other country is open) and the country rules.\n", args, 0, nil)
	if err != nil {
		return err
	}
	defer done()
	ps, err := svc.Policies(ctx)
	if err != nil {
		return err
	}
	rs, err := svc.Rules(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	if len(ps) == 0 {
		fmt.Fprintln(tw, "Markets: every country is open.")
	} else {
		fmt.Fprintln(tw, "Markets (every other country is open):")
		fmt.Fprintln(tw, "COUNTRY\tNAME\tSTATUS\tOFF\tUPDATED\tBY\tNOTE")
		for _, p := range ps {
			off := make([]string, len(p.Off))
			for i, f := range p.Off {
				off[i] = string(f)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.Country, kurir.CountryName(p.Country), p.Status, orDash(strings.Join(off, ",")),
				p.UpdatedAt.Format(time.DateOnly), byWhom(p.UpdatedBy), orDash(p.Note))
		}
	}
	fmt.Fprintln(tw)
	if len(rs) == 0 {
		fmt.Fprintln(tw, "Country rules: none.")
	} else {
		fmt.Fprintln(tw, "Country rules:")
		fmt.Fprintln(tw, "ID\tSCOPE\tCATEGORY\tLAW\tCREATED\tBY")
		for _, r := range rs {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Scope, r.Category, r.LegalRef, r.CreatedAt.Format(time.DateOnly), byWhom(r.CreatedBy))
		}
	}
	return tw.Flush()
}

const jurSetHelp = `Usage: kurir admin jurisdiction set [flags] CC

Sets the market of country CC (ISO 3166-1 alpha-2, such as DE): open,
restricted (the features named by --off are unavailable there) or
withdrawn (nobody there can sign up, log in or use kurir; accounts and
data are kept). People there read the note with the refusal. Open with no
note removes the country's policy.

Examples:
  kurir admin jurisdiction set IR --status withdrawn --note "Sanctions."
  kurir admin jurisdiction set RU --status restricted --off signup,public_chats
  kurir admin jurisdiction set IR --status open
`

func (a *adminCmd) jurSet(ctx context.Context, args []string) error {
	var status, off, note string
	svc, done, pos, err := a.jurSetup(ctx, "set", jurSetHelp, args, 1, func(e envFlags) {
		e.fs.StringVar(&status, "status", "", "open, restricted or withdrawn (required)")
		e.fs.StringVar(&off, "off", "", "with restricted: the features to turn off, comma-separated: signup, discovery, public_chats, uploads")
		e.fs.StringVar(&note, "note", "", "why, as people there read it with a refusal (at most 500 characters)")
	})
	if err != nil {
		return err
	}
	defer done()
	if status == "" {
		return usagef("admin jurisdiction set: --status is required: open, restricted or withdrawn")
	}
	p := jurisdiction.Policy{Country: pos[0], Status: jurisdiction.Status(status), Note: note}
	for _, f := range strings.Split(off, ",") {
		if f = strings.TrimSpace(f); f != "" {
			p.Off = append(p.Off, jurisdiction.Feature(f))
		}
	}
	p, err = svc.SetPolicy(ctx, moderation.Operator, p)
	if err != nil {
		return jurError("set", err)
	}
	switch {
	case p.Status == jurisdiction.Open && p.Note == "":
		fmt.Fprintf(a.stdout, "%s (%s) is open; its policy is removed\n", p.Country, kurir.CountryName(p.Country))
	case p.Status == jurisdiction.Restricted:
		off := make([]string, len(p.Off))
		for i, f := range p.Off {
			off[i] = string(f)
		}
		fmt.Fprintf(a.stdout, "%s (%s) is restricted: %s off\n", p.Country, kurir.CountryName(p.Country), strings.Join(off, ", "))
	default:
		fmt.Fprintf(a.stdout, "%s (%s) is %s\n", p.Country, kurir.CountryName(p.Country), p.Status)
	}
	return nil
}

// jurError is the message for a refusal by the jurisdiction service: bad
// input is a usage error (exit status 2) naming the flag or argument at
// fault.
func jurError(command string, err error) error {
	var e *kurir.Error
	if !errors.As(err, &e) || e.Code != kurir.EInvalid {
		return clientError(err)
	}
	what := map[string]string{"country": "CC", "status": "--status", "off": "--off", "note": "--note", "scope": "SCOPE", "countries": "SCOPE",
		"category": "CATEGORY", "legal_reference": "--law"}[e.Field]
	if what == "" {
		return usagef("admin jurisdiction %s: %s", command, kurir.ErrorMessage(err))
	}
	return usagef("admin jurisdiction %s: %s: %s", command, what, kurir.ErrorMessage(err))
}

const jurRuleAddHelp = `Usage: kurir admin jurisdiction rule add [flags] SCOPE CATEGORY

Records that content of CATEGORY (a moderation category, such as
hate_speech or terrorism) is illegal in SCOPE, a country (ISO 3166-1
alpha-2, such as DE) or a group of countries (EU, EEA), under a law.
A restriction by country rules then withholds such content there.

Example: kurir admin jurisdiction rule add DE hate_speech --law "§ 130 StGB"
`

func (a *adminCmd) jurRuleAdd(ctx context.Context, args []string) error {
	var law string
	svc, done, pos, err := a.jurSetup(ctx, "rule add", jurRuleAddHelp, args, 2, func(e envFlags) {
		e.fs.StringVar(&law, "law", "", "the law that makes it illegal there, such as \"§ 130 StGB\" (required)")
	})
	if err != nil {
		return err
	}
	defer done()
	if strings.TrimSpace(law) == "" {
		return usagef("admin jurisdiction rule add: --law is required: the law that makes %s illegal in %s", pos[1], pos[0])
	}
	if c := moderation.Category(pos[1]); !c.Valid() {
		return usagef("admin jurisdiction rule add: CATEGORY %q: want one of %s", pos[1], categoryList())
	}
	r, err := svc.AddRule(ctx, moderation.Operator, jurisdiction.Rule{Scope: pos[0], Category: moderation.Category(pos[1]), LegalRef: law})
	if err != nil {
		return jurError("rule add", err)
	}
	fmt.Fprintf(a.stdout, "rule %d: %s is illegal in %s under %s\n", r.ID, r.Category, r.Scope, r.LegalRef)
	return nil
}

// categoryList lists the moderation categories for an error message.
func categoryList() string {
	names := make([]string, len(moderation.Categories))
	for i, c := range moderation.Categories {
		names[i] = string(c)
	}
	return strings.Join(names, ", ")
}

func (a *adminCmd) jurRuleRemove(ctx context.Context, args []string) error {
	svc, done, pos, err := a.jurSetup(ctx, "rule remove", "Usage: kurir admin jurisdiction rule remove [flags] ID\n\nRemoves country rule ID (see kurir admin jurisdiction list).\n", args, 1, nil)
	if err != nil {
		return err
	}
	defer done()
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || id <= 0 {
		return usagef("admin jurisdiction rule remove: %q is not a rule ID; see kurir admin jurisdiction list", pos[0])
	}
	if err := svc.RemoveRule(ctx, moderation.Operator, id); err != nil {
		return jurError("rule remove", err)
	}
	fmt.Fprintf(a.stdout, "rule %d removed\n", id)
	return nil
}

func (a *adminCmd) jurWhere(ctx context.Context, args []string) error {
	svc, done, pos, err := a.jurSetup(ctx, "where", "Usage: kurir admin jurisdiction where [flags] CATEGORY\n\nLists the countries whose rules make CATEGORY illegal, with the law of each:\nwhere a restriction by country rules withholds content of CATEGORY today.\n", args, 1, nil)
	if err != nil {
		return err
	}
	defer done()
	c := moderation.Category(pos[0])
	if !c.Valid() {
		return usagef("admin jurisdiction where: CATEGORY %q: want one of %s", pos[0], categoryList())
	}
	// Load the policy here, so that a database failure is an error rather
	// than an empty answer.
	if err := svc.Sync(ctx); err != nil {
		return err
	}
	rs := svc.IllegalIn(c)
	if len(rs) == 0 {
		fmt.Fprintf(a.stdout, "No country rule makes %s illegal anywhere.\n", c)
		return nil
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COUNTRY\tNAME\tLAW")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Scope, kurir.CountryName(r.Scope), r.LegalRef)
	}
	return tw.Flush()
}
