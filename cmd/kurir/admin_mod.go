package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/user"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"kurir"
	"kurir/account"
	"kurir/bus/natsbus"
	"kurir/jurisdiction"
	"kurir/messaging"
	"kurir/moderation"
	"kurir/sqldb"
)

const adminModHelp = `Usage: kurir admin mod <command> [flags] [arguments]

The moderation console's work from the command line, for scripts. Commands
act as the operator (an admin without an account) or, with --as USER, as
that member of staff, whose role then applies: triage can list, view,
assign, comment and escalate; moderators and admins can also act, reverse,
dismiss and decide appeals; only admins manage trusted flaggers. An appeal
goes to someone other than whoever took the decision, so to decide an
appeal against the operator's own action, use --as.

Whoever runs these commands holds the database and is the operator: --as
is their say-so, not a login. Every audit entry they write says so, with
"[via cli os-user=NAME as=@USER]" before its detail.

  queue [--state open|escalated|resolved] [--category C] [--source S] [--lang L] [--country CC]
      [--assignee USER] [--limit N]
                                 cases, overdue first, then highest priority
                                 (for admins, escalated first): ID, priority,
                                 category, subject, signals, due, state
  case CASE                      a case: signals with their evidence, history,
                                 actions, the chat and the messages around the
                                 reported one (the view is audited)
  act CASE --kind remove_message|remove_media|takedown|restrict|suspend|ban|label --facts TEXT
      [--ground terms|illegal] [--law REF] [--until TIME | --for 7d]
      [--label L] [--category C] [--countries DE,AT,EU]
                                 decide a case by acting on its subject; the
                                 affected user gets a statement of reasons
  reverse ACTION --reason TEXT   undo an action
  dismiss CASE --reason TEXT     resolve a case without action
  escalate CASE [--note TEXT]    send a case to senior review
  comment CASE --note TEXT       add an internal note to a case
  assign CASE USER|none          give a case to a member of staff
  user USER                      an account as a reviewer sees it: its state,
                                 the decisions against it, its open cases and
                                 its record as a reporter (the view is audited)
  appeals [--state pending|upheld|rejected] [--assignee USER] [--limit N]
                                 appeals and requests to review a dismissal,
                                 soonest due first
  assign-appeal APPEAL USER|none give an appeal to a moderator or admin to
                                 decide (never whoever took the decision)
  decide APPEAL --uphold|--reject --reason TEXT
                                 decide an appeal; upholding it reverses the
                                 decision at once (or reopens a dismissed case)
  bulk preview|request --kind remove_message|takedown --sha256 HEX --category C --facts TEXT
      [--ground terms|illegal] [--law REF]
                                 act on every posting of a file: preview what
                                 it would affect, or request it (above
                                 --bulk-approval-above subjects it waits for
                                 a second person)
  bulk list [--state pending|running|done|rejected] | bulk show ID
  bulk approve ID | bulk reject ID --reason TEXT
                                 follow, approve (it then runs to the end
                                 here) or reject bulk actions
  flagger add USER --org NAME | flagger remove USER | flagger list
                                 trusted flaggers, whose reports go ahead of
                                 the queue

USER is an @username, a username or a numeric user ID.

These commands change only the database, so they are safe beside running
servers, and a takedown, removal, suspension or ban holds from the moment
the command returns: every read, send and download on every node is
refused. Devices that are connected live are not pushed the change unless
--nats names the NATS the servers use (KURIR_NATS_URL, as for kurir serve);
without it they see the change at their next read or sync. A single server
with its in-process bus cannot be reached from here. A suspended or banned
account is refused at once, but a live stream it already has open ends only
when it reconnects (from the console, at once).

Run "kurir admin mod <command> --help" for a command's flags.
`

func (a *adminCmd) mod(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		if len(args) == 0 {
			fmt.Fprint(a.stderr, adminModHelp)
			return usagef("admin mod: name a command, e.g. kurir admin mod queue")
		}
		fmt.Fprint(a.stdout, adminModHelp)
		return nil
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "queue":
		return a.modQueue(ctx, rest)
	case "case":
		return a.modCase(ctx, rest)
	case "act":
		return a.modAct(ctx, rest)
	case "reverse":
		return a.modReverse(ctx, rest)
	case "dismiss", "escalate", "comment":
		return a.modStep(ctx, cmd, rest)
	case "assign":
		return a.modAssign(ctx, rest)
	case "user":
		return a.modUser(ctx, rest)
	case "appeals":
		return a.modAppeals(ctx, rest)
	case "assign-appeal":
		return a.modAssignAppeal(ctx, rest)
	case "bulk":
		return a.modBulk(ctx, rest)
	case "decide":
		return a.modDecide(ctx, rest)
	case "flagger":
		return a.modFlagger(ctx, rest)
	default:
		fmt.Fprint(a.stderr, adminModHelp)
		return usagef("admin mod: unknown command %q", cmd)
	}
}

// modSession is what one "kurir admin mod" command works with: the
// services over the database, and the member of staff it acts as.
type modSession struct {
	db     *sqldb.DB
	acc    *account.Service
	mod    *moderation.Service
	by     moderation.Staff
	byName string // "the operator" or "@name"
	events *natsbus.Bus
}

func (s *modSession) close() {
	if s.events != nil {
		s.events.Close() // flushes what was published
	}
	s.db.Close()
}

// modSetup parses a command's flags (the common ones, --as, --nats if live,
// and the caller's through extra), checks it was given nargs arguments,
// and opens the services. The caller closes the session.
func (a *adminCmd) modSetup(ctx context.Context, name, help string, args []string, nargs int, live bool, extra func(envFlags)) (*modSession, []string, error) {
	return a.openMod(ctx, "admin mod "+name, help, args, nargs, live, extra)
}

// openMod is modSetup for a command named in full, such as "admin user ban".
func (a *adminCmd) openMod(ctx context.Context, command, help string, args []string, nargs int, live bool, extra func(envFlags)) (*modSession, []string, error) {
	var as, natsURL, natsPrefix string
	db, log, rest, err := a.open(ctx, command, help, args, nargs, func(e envFlags) {
		e.fs.StringVar(&as, "as", "", "act as this member of staff (@username or ID), with their role (default: the operator, an admin)")
		if live {
			e.string(&natsURL, "nats", "KURIR_NATS_URL", "", "NATS server URL(s) the servers use, so that connected devices are pushed the change at once (default: they see it at their next read)")
			e.string(&natsPrefix, "nats-prefix", "KURIR_NATS_PREFIX", "kurir", "the servers' --nats-prefix")
		}
		if extra != nil {
			extra(e)
		}
	})
	if err != nil {
		return nil, nil, err
	}
	s := &modSession{db: db, by: moderation.Operator, byName: "the operator"}
	clock := kurir.SystemClock{}
	s.acc = account.NewService(db, clock, log.With("component", "account"), account.Config{})
	var pub messaging.Publisher
	if natsURL != "" {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		s.events, err = natsbus.Open(cctx, natsURL, log.With("component", "bus"), natsbus.Options{Prefix: natsPrefix, Name: "kurir-admin"})
		cancel()
		if err != nil {
			db.Close()
			return nil, nil, err
		}
		pub = s.events
	}
	laws := jurisdiction.NewService(db, nil, clock, log.With("component", "jurisdiction"))
	msg := messaging.NewService(db, pub, clock, log.With("component", "messaging"), messaging.Config{Territory: laws})
	s.mod = moderation.NewService(db, msg, s.acc, clock, log.With("component", "moderation"), moderation.Config{})
	if as != "" {
		u, err := findUser(ctx, s.acc, as)
		if err == nil && !canAct(u) {
			err = fmt.Errorf("--as %s: the account is %s and cannot act", as, describeState(u))
		}
		if err != nil {
			s.close()
			return nil, nil, err
		}
		s.by, s.byName = moderation.Staff{ID: u.ID, Role: u.Role}, "@"+u.Username
	}
	s.by.Via = cliVia(s.byName)
	return s, rest, nil
}

// cliVia is what the audit log records of a command-line action besides
// the staff it acts as: that it came through the command line, the
// operating-system user who ran it, and whom --as named. Whoever runs kurir
// admin holds the database and is the operator; --as is their claim, which
// nothing checks, and the log says so.
func cliVia(as string) string {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	if name == "" {
		name = "unknown"
	}
	if as == "" || as == "the operator" {
		return "cli os-user=" + name
	}
	return "cli os-user=" + name + " as=" + as
}

// canAct reports whether an account is in a state to act as staff.
func canAct(u account.User) bool {
	switch u.State {
	case account.StateActive:
		return true
	case account.StateSuspended:
		return !time.Now().Before(u.SuspendedUntil)
	}
	return false
}

// findUser finds the account a person named on the command line: by
// @username, username or numeric ID (usernames start with a letter, so the
// two cannot be confused).
func findUser(ctx context.Context, acc *account.Service, name string) (account.User, error) {
	if id, err := strconv.ParseInt(name, 10, 64); err == nil {
		u, err := acc.UserByID(ctx, kurir.UserID(id))
		if kurir.ErrorCode(err) == kurir.ENotFound || err == nil && u.State == account.StateDeleted {
			return u, fmt.Errorf("no user with ID %d", id)
		}
		return u, err
	}
	u, err := acc.UserByUsername(ctx, strings.TrimPrefix(name, "@"))
	if kurir.ErrorCode(err) == kurir.ENotFound {
		return u, fmt.Errorf("no user named %q", name)
	}
	return u, err
}

// parseID reads a positive ID of what (a case, an action...) from the
// command line.
func parseID(command, what, s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, usagef("admin mod %s: %s %q: want its number, e.g. 12", command, what, s)
	}
	return id, nil
}

// parseSpan reads a length of time as Go writes it (36h, 90m) or in days
// (7d, 1d12h).
func parseSpan(s string) (time.Duration, error) {
	days, rest, ok := strings.Cut(s, "d")
	if !ok {
		return time.ParseDuration(s)
	}
	n, err := strconv.Atoi(days)
	if err != nil || n < 0 || n > 100*365 {
		return 0, fmt.Errorf("%q: want a length such as 7d, 36h or 1d12h", s)
	}
	d := time.Duration(n) * 24 * time.Hour
	if rest != "" {
		r, err := time.ParseDuration(rest)
		if err != nil {
			return 0, fmt.Errorf("%q: want a length such as 7d, 36h or 1d12h", s)
		}
		d += r
	}
	return d, nil
}

// modError is the message for a refusal by the moderation service, with a
// hint where the command line can do better than the console.
func (s *modSession) modError(err error) error {
	if kurir.ErrorReason(err) == "own_decision" && s.by.ID == 0 {
		return fmt.Errorf("%s The operator took this decision: decide the appeal --as another moderator or admin", kurir.ErrorMessage(err))
	}
	if kurir.ErrorCode(err) == kurir.EForbidden && s.by.ID != 0 {
		return fmt.Errorf("%s (%s is %s)", kurir.ErrorMessage(err), s.byName, s.by.Role)
	}
	return clientError(err)
}

var modSources = []moderation.Source{moderation.SourceUser, moderation.SourceFlagger, moderation.SourceNotice, moderation.SourceHashBank,
	moderation.SourceTextRule, moderation.SourceClassifier, moderation.SourceLegal, moderation.SourceOwn}

func (a *adminCmd) modQueue(ctx context.Context, args []string) error {
	var state, category, source, lang, country, assignee string
	var limit int
	s, _, err := a.modSetup(ctx, "queue", "Usage: kurir admin mod queue [--state open|escalated|resolved] [--category C] [--source S] [--lang L] [--country CC] [--assignee USER] [--limit N]\n\nLists cases: those past their deadline first, then the highest priority and, among\nequals, the one due soonest. For an admin, escalated cases come first.\n", args, 0, false, func(e envFlags) {
		e.fs.StringVar(&assignee, "assignee", "", "only cases assigned to this member of staff (@username or ID)")
		e.fs.StringVar(&state, "state", "", "open, escalated or resolved (default: open and escalated)")
		e.fs.StringVar(&category, "category", "", "only this category, e.g. terrorism, spam")
		e.fs.StringVar(&source, "source", "", "only cases with a signal from this source, e.g. user_report, trusted_flagger, hash_bank")
		e.fs.StringVar(&lang, "lang", "", "only cases first signalled by someone reading this language, e.g. de")
		e.fs.StringVar(&country, "country", "", "only cases first signalled from this country (ISO 3166-1 alpha-2), e.g. AT")
		e.fs.IntVar(&limit, "limit", 50, "at most this many cases (1 to 200)")
	})
	if err != nil {
		return err
	}
	defer s.close()
	if limit < 1 || limit > 200 {
		return usagef("admin mod queue: --limit %d: want 1 to 200", limit)
	}
	if source != "" && !slices.Contains(modSources, moderation.Source(source)) {
		return usagef("admin mod queue: --source %q: want one of %s", source, joinSources())
	}
	f := moderation.QueueFilter{State: state, Category: moderation.Category(category), Source: moderation.Source(source),
		Lang: lang, Country: country, Limit: limit}
	if assignee != "" {
		u, err := findUser(ctx, s.acc, assignee)
		if err != nil {
			return err
		}
		f.Assignee = u.ID
	}
	cases, err := s.mod.Queue(ctx, s.by, f)
	if err != nil {
		return s.modError(err)
	}
	now := time.Now()
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tPRIORITY\tCATEGORY\tSUBJECT\tSIGNALS\tDUE\tSTATE")
	for _, c := range cases {
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%d %s\t%s\t%s\n", c.ID, c.Priority, c.Category, c.Subject.Key(), c.SignalCount,
			joinList(c.Sources), due(c, now), caseState(c))
	}
	return tw.Flush()
}

func joinSources() string { return joinList(modSources) }

func joinList[T ~string](xs []T) string {
	ss := make([]string, len(xs))
	for i, x := range xs {
		ss[i] = string(x)
	}
	return strings.Join(ss, ",")
}

// due says when an unresolved case is due: "in 3h20m" or "OVERDUE 1h5m".
func due(c moderation.Case, now time.Time) string {
	if c.State == moderation.StateResolved {
		return "-"
	}
	d := c.Due.Sub(now).Round(time.Minute)
	if c.Overdue(now) {
		return "OVERDUE " + strings.TrimSuffix((-d).String(), "0s")
	}
	return "in " + strings.TrimSuffix(d.String(), "0s")
}

func caseState(c moderation.Case) string {
	if c.State == moderation.StateResolved {
		return c.State + " (" + c.Outcome + ")"
	}
	return c.State
}

// who names a user ID in listings: 0 is the operator or the system.
func who(id kurir.UserID, zero string) string {
	if id == 0 {
		return zero
	}
	return strconv.FormatInt(int64(id), 10)
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func (a *adminCmd) modCase(ctx context.Context, args []string) error {
	s, rest, err := a.modSetup(ctx, "case", "Usage: kurir admin mod case CASE\n\nShows a case with its signals and their evidence, its history, actions, and the\nmessages around what was reported. The view is recorded in the audit log.\n", args, 1, false, nil)
	if err != nil {
		return err
	}
	defer s.close()
	id, err := parseID("case", "case", rest[0])
	if err != nil {
		return err
	}
	d, err := s.mod.Case(ctx, s.by, id)
	if err != nil {
		return s.modError(err)
	}
	now := time.Now()
	w := a.stdout
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "case\t%d\nsubject\t%s\ncategory\t%s\npriority\t%d\nstate\t%s\nassignee\t%s\nreach\t%d\n",
		d.ID, d.Subject.Key(), d.Category, d.Priority, caseState(d.Case), who(d.Assignee, "-"), d.Reach)
	fmt.Fprintf(tw, "due\t%s (%s)\nopened\t%s\nsources\t%s\n", stamp(d.Due), due(d.Case, now), stamp(d.Opened), joinList(d.Sources))
	if c := d.Chat; c != nil {
		name := ""
		if c.Username != "" {
			name = " (@" + c.Username + ")"
		}
		fmt.Fprintf(tw, "chat\t%s %s%s, owner %d, %d members\n", c.Kind, strconv.Quote(c.Title), name, c.Owner, c.MemberCount)
		if !c.TakenDown.IsZero() {
			fmt.Fprintf(tw, "taken down\t%s\n", stamp(c.TakenDown))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	section := func(title, header string, rows func(tw io.Writer)) error {
		fmt.Fprintf(w, "\n%s\n", title)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, header)
		rows(tw)
		return tw.Flush()
	}
	err = section("SIGNALS", "ID\tAT\tSOURCE\tCATEGORY\tREPORTER\tWEIGHT\tCOMMENT\tEVIDENCE", func(tw io.Writer) {
		for _, g := range d.Signals {
			reporter := who(g.Reporter, "-")
			if g.Notice != 0 {
				reporter = fmt.Sprintf("notice %d", g.Notice)
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%.1f\t%s\t%s\n", g.ID, stamp(g.At), g.Source, g.Category, reporter, g.Weight,
				orDash(oneLine(g.Comment)), orDash(oneLine(g.Detail)))
		}
	})
	if err != nil {
		return err
	}
	// What the server verified is shown apart from the comments, which
	// anyone can write to look like it.
	for _, g := range d.Signals {
		if e := g.Evidence; e != nil {
			fmt.Fprintf(w, "\nVERIFIED EVIDENCE of signal %d (%s): user %d sent this from device %d to device %d of user %d at %s (envelope %s)\n%s\n",
				g.ID, e.Kind, e.Sender, e.SenderDevice, e.RecipientDevice, e.Recipient, e.SentAt.UTC().Format(time.RFC3339Nano), e.Envelope, oneLine(e.Text))
			if e.Omitted > 0 {
				fmt.Fprintf(w, "(%d more characters not kept)\n", e.Omitted)
			}
		}
	}
	err = section("HISTORY", "AT\tBY\tEVENT\tNOTE", func(tw io.Writer) {
		for _, e := range d.History {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", stamp(e.At), who(e.Actor, "-"), e.Kind, orDash(oneLine(e.Note)))
		}
	})
	if err != nil {
		return err
	}
	if len(d.Actions) > 0 {
		err = section("ACTIONS", "ID\tAT\tKIND\tSUBJECT\tAFFECTED\tCATEGORY\tGROUND\tMODERATOR\tREVERSED\tFACTS", func(tw io.Writer) {
			for _, x := range d.Actions {
				ground := string(x.Ground)
				if x.LegalReference != "" {
					ground += ": " + x.LegalReference
				}
				reversed := "-"
				if !x.Reversed.IsZero() {
					reversed = stamp(x.Reversed) + " by " + who(x.ReversedBy, "operator") + ": " + x.ReversalReason
				}
				kind := string(x.Kind)
				if x.Label != "" {
					kind += ":" + x.Label
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", x.ID, stamp(x.At), kind, x.Subject.Key(), x.Affected, x.Category,
					oneLine(ground), who(x.Moderator, "operator"), oneLine(reversed), oneLine(x.Facts))
			}
		})
		if err != nil {
			return err
		}
	}
	if len(d.Messages) > 0 {
		err = section("MESSAGES", "\tSEQ\tAT\tSENDER\tTEXT", func(tw io.Writer) {
			for _, m := range d.Messages {
				mark := ""
				if m.Seq == d.Subject.Seq && d.Subject.Kind == moderation.SubjectMessage {
					mark = ">"
				}
				text := m.Text
				if m.Media != nil {
					text = fmt.Sprintf("[%s %q, media %d] %s", m.Media.Kind, m.Media.Name, m.MediaID, text)
				}
				switch {
				case !m.Removed.IsZero():
					text = "[removed by moderation: " + m.Reason + "] " + text
				case m.Deleted:
					text = "[deleted]"
				}
				fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%s\n", mark, m.Seq, stamp(m.CreatedAt), m.SenderID, oneLine(text))
			}
		})
	}
	return err
}

func (a *adminCmd) modAct(ctx context.Context, args []string) error {
	var kind, facts, ground, law, until, span, label, category, countries string
	s, rest, err := a.modSetup(ctx, "act", `Usage: kurir admin mod act CASE --kind KIND --facts TEXT [flags]

Decides a case by acting on its subject, at once, and resolves it. The
affected user is owed a statement of reasons: --facts is what they read.

  remove_message  the reported message reads as deleted for everyone
  takedown        the group or channel (of the reported message) goes dark,
                  with everything in it
  restrict        the reported message, or group or channel, is withheld in
                  --countries only (codes and groups: DE,AT,EU,EEA), or,
                  without --countries, wherever a country rule makes the
                  category illegal (see kurir admin jurisdiction)
  suspend         the account (the reported user, the message's sender or
                  the chat's owner) until --until or for --for
  ban             that account, until the action is reversed
  label           put a warning on the group or channel that readers see
                  before they read it: --label sensitive, graphic,
                  misleading or scam_risk

Example: kurir admin mod act 12 --kind takedown --ground illegal \
           --law "Regulation (EU) 2021/784 Art. 3" --facts "Recruitment for a terrorist group"
`, args, 1, true, func(e envFlags) {
		e.fs.StringVar(&kind, "kind", "", "remove_message, remove_media, takedown, restrict, suspend, ban or label")
		e.fs.StringVar(&countries, "countries", "", "for restrict: the countries and groups (EU, EEA) to withhold it in, comma-separated (default: by country rules)")
		e.fs.StringVar(&facts, "facts", "", "the facts and circumstances the decision rests on, as the affected user will read them (required)")
		e.fs.StringVar(&ground, "ground", "terms", "terms (against the terms of service) or illegal (name the law with --law)")
		e.fs.StringVar(&law, "law", "", "the law the content breaks, required with --ground illegal")
		e.fs.StringVar(&until, "until", "", "when a suspension ends, RFC 3339, e.g. 2026-12-24T00:00:00Z")
		e.fs.StringVar(&span, "for", "", "how long a suspension lasts, e.g. 7d or 72h")
		e.fs.StringVar(&label, "label", "", "for a label action: "+strings.Join(messaging.Labels, ", "))
		e.fs.StringVar(&category, "category", "", "the category, if not the case's")
	})
	if err != nil {
		return err
	}
	defer s.close()
	id, err := parseID("act", "case", rest[0])
	if err != nil {
		return err
	}
	if kind == "" {
		return usagef("admin mod act: say what to do with --kind remove_message, takedown, restrict, suspend, ban or label")
	}
	if strings.TrimSpace(facts) == "" {
		return usagef("admin mod act: --facts is required; the affected user reads it in their statement of reasons")
	}
	p := moderation.ActParams{Kind: moderation.ActionKind(kind), Category: moderation.Category(category), Ground: moderation.Ground(ground),
		LegalReference: law, Facts: facts, Label: label}
	for _, c := range strings.Split(countries, ",") {
		if c = strings.TrimSpace(c); c != "" {
			p.Countries = append(p.Countries, c)
		}
	}
	switch {
	case until != "" && span != "":
		return usagef("admin mod act: give --until or --for, not both")
	case until != "":
		if p.Until, err = time.Parse(time.RFC3339, until); err != nil {
			return usagef("admin mod act: --until %q: want a time like 2026-12-24T00:00:00Z", until)
		}
	case span != "":
		d, err := parseSpan(span)
		if err != nil || d <= 0 {
			return usagef("admin mod act: --for %q: want a length such as 7d, 36h or 1d12h", span)
		}
		p.Until = time.Now().Add(d)
	case p.Kind == moderation.Suspend:
		return usagef("admin mod act: a suspension needs --until or --for")
	}
	x, err := s.mod.Act(ctx, s.by, id, p)
	if err != nil {
		return s.modError(err)
	}
	what := string(x.Kind)
	if x.Label != "" {
		what += " " + x.Label
	}
	fmt.Fprintf(a.stdout, "action %d: %s %s (%s), by %s; case %d resolved\n", x.ID, what, x.Subject.Key(), x.Category, s.byName, x.CaseID)
	if !x.Until.IsZero() {
		fmt.Fprintf(a.stdout, "until %s\n", stamp(x.Until))
	}
	return nil
}

func (a *adminCmd) modReverse(ctx context.Context, args []string) error {
	var reason string
	s, rest, err := a.modSetup(ctx, "reverse", "Usage: kurir admin mod reverse ACTION --reason TEXT\n\nUndoes an action: the content or account is back at once, and the statement\nof reasons says it was reversed.\n", args, 1, true, func(e envFlags) {
		e.fs.StringVar(&reason, "reason", "", "why it is reversed (required)")
	})
	if err != nil {
		return err
	}
	defer s.close()
	id, err := parseID("reverse", "action", rest[0])
	if err != nil {
		return err
	}
	if strings.TrimSpace(reason) == "" {
		return usagef("admin mod reverse: --reason is required")
	}
	if err := s.mod.Reverse(ctx, s.by, id, reason); err != nil {
		return s.modError(err)
	}
	fmt.Fprintf(a.stdout, "action %d reversed by %s\n", id, s.byName)
	return nil
}

// modStep runs dismiss, escalate and comment, which take a case and a text.
func (a *adminCmd) modStep(ctx context.Context, cmd string, args []string) error {
	var text string
	flag, usage := "note", map[string]string{
		"dismiss":  "Usage: kurir admin mod dismiss CASE --reason TEXT\n\nResolves a case without action: nothing was wrong. It counts against the\naccuracy of those who reported it.\n",
		"escalate": "Usage: kurir admin mod escalate CASE [--note TEXT]\n\nSends a case to senior review.\n",
		"comment":  "Usage: kurir admin mod comment CASE --note TEXT\n\nAdds an internal note to a case's history.\n",
	}[cmd]
	if cmd == "dismiss" {
		flag = "reason"
	}
	s, rest, err := a.modSetup(ctx, cmd, usage, args, 1, false, func(e envFlags) {
		e.fs.StringVar(&text, flag, "", "the "+flag+", kept in the case's history")
	})
	if err != nil {
		return err
	}
	defer s.close()
	id, err := parseID(cmd, "case", rest[0])
	if err != nil {
		return err
	}
	if cmd != "escalate" && strings.TrimSpace(text) == "" {
		return usagef("admin mod %s: --%s is required", cmd, flag)
	}
	switch cmd {
	case "dismiss":
		err = s.mod.Dismiss(ctx, s.by, id, text)
	case "escalate":
		err = s.mod.Escalate(ctx, s.by, id, text)
	default:
		err = s.mod.Comment(ctx, s.by, id, text)
	}
	if err != nil {
		return s.modError(err)
	}
	done := map[string]string{"dismiss": "dismissed", "escalate": "escalated", "comment": "commented"}[cmd]
	fmt.Fprintf(a.stdout, "case %d %s by %s\n", id, done, s.byName)
	return nil
}

func (a *adminCmd) modAssign(ctx context.Context, args []string) error {
	return a.modAssignTo(ctx, args, "assign", "case", "Usage: kurir admin mod assign CASE USER|none\n\nGives a case to a member of staff (triage, moderator or admin), or, with\nnone, to nobody.\n",
		func(s *modSession, id int64, to kurir.UserID) error { return s.mod.Assign(ctx, s.by, id, to) })
}

// modAssignTo gives the case or appeal (noun) named by the first argument to
// the member of staff named by the second, or with none to nobody.
func (a *adminCmd) modAssignTo(ctx context.Context, args []string, cmd, noun, help string, assign func(s *modSession, id int64, to kurir.UserID) error) error {
	s, rest, err := a.modSetup(ctx, cmd, help, args, 2, false, nil)
	if err != nil {
		return err
	}
	defer s.close()
	id, err := parseID(cmd, noun, rest[0])
	if err != nil {
		return err
	}
	var to account.User
	if rest[1] != "none" {
		if to, err = findUser(ctx, s.acc, rest[1]); err != nil {
			return err
		}
	}
	if err := assign(s, id, to.ID); err != nil {
		return s.modError(err)
	}
	if to.ID == 0 {
		fmt.Fprintf(a.stdout, "%s %d unassigned\n", noun, id)
		return nil
	}
	fmt.Fprintf(a.stdout, "%s %d assigned to @%s (id %d)\n", noun, id, to.Username, to.ID)
	return nil
}

func (a *adminCmd) modAppeals(ctx context.Context, args []string) error {
	var state, assignee string
	var limit int
	s, _, err := a.modSetup(ctx, "appeals", "Usage: kurir admin mod appeals [--state pending|upheld|rejected] [--assignee USER] [--limit N]\n\nLists appeals against decisions (KIND decision) and requests from notifiers and\nreporters to review a dismissal (KIND dismissal): pending ones soonest due first,\ndecided ones most recently decided first.\n", args, 0, false, func(e envFlags) {
		e.fs.StringVar(&state, "state", "pending", "pending, upheld or rejected")
		e.fs.StringVar(&assignee, "assignee", "", "only appeals assigned to this member of staff (@username or ID)")
		e.fs.IntVar(&limit, "limit", 100, "at most this many (1 to 200)")
	})
	if err != nil {
		return err
	}
	defer s.close()
	if limit < 1 || limit > 200 {
		return usagef("admin mod appeals: --limit %d: want 1 to 200", limit)
	}
	f := moderation.AppealFilter{State: state, Limit: limit}
	if assignee != "" {
		u, err := findUser(ctx, s.acc, assignee)
		if err != nil {
			return err
		}
		f.Assignee = u.ID
	}
	ps, err := s.mod.AppealQueue(ctx, s.by, f)
	if err != nil {
		return s.modError(err)
	}
	now := time.Now()
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tFILED\tBY\tCASE\tACTION\tSUBJECT\tDECIDED BY\tSTATE\tDUE\tASSIGNEE\tTEXT")
	for _, p := range ps {
		by, what, subject := who(p.User, "-"), "-", "-"
		if p.Notice != 0 {
			by = fmt.Sprintf("notice %d", p.Notice)
		}
		if p.Kind == moderation.AppealDecision {
			what, subject = fmt.Sprintf("%d %s", p.ActionID, p.Action.Kind), p.Action.Subject.Key()
		} else if p.Case != nil {
			what, subject = "dismissed", p.Case.Subject.Key()
		}
		dueIn := "-"
		if p.State == moderation.AppealPending {
			d := p.Due.Sub(now).Round(time.Minute)
			dueIn = "in " + strings.TrimSuffix(d.String(), "0s")
			if p.Overdue(now) {
				dueIn = "OVERDUE " + strings.TrimSuffix((-d).String(), "0s")
			}
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.ID, p.Kind, stamp(p.Created), by, p.CaseID, what, subject,
			who(p.Decider, "operator"), p.State, dueIn, who(p.Assignee, "-"), oneLine(p.Text))
	}
	return tw.Flush()
}

func (a *adminCmd) modDecide(ctx context.Context, args []string) error {
	var uphold, reject bool
	var reason string
	s, rest, err := a.modSetup(ctx, "decide", "Usage: kurir admin mod decide APPEAL --uphold|--reject --reason TEXT\n\nDecides an appeal. Upholding it reverses the decision at once; rejecting it\nlets the decision stand. The person who appealed reads the reason. Someone\nother than whoever took the decision must decide it (see --as).\n", args, 1, true, func(e envFlags) {
		e.fs.BoolVar(&uphold, "uphold", false, "the decision was wrong: reverse it")
		e.fs.BoolVar(&reject, "reject", false, "the decision stands")
		e.fs.StringVar(&reason, "reason", "", "why, for the person who appealed (required)")
	})
	if err != nil {
		return err
	}
	defer s.close()
	id, err := parseID("decide", "appeal", rest[0])
	if err != nil {
		return err
	}
	if uphold == reject {
		return usagef("admin mod decide: give exactly one of --uphold and --reject")
	}
	if strings.TrimSpace(reason) == "" {
		return usagef("admin mod decide: --reason is required; the person who appealed reads it")
	}
	p, err := s.mod.DecideAppeal(ctx, s.by, id, uphold, reason)
	if err != nil {
		return s.modError(err)
	}
	switch {
	case uphold && p.Kind == moderation.AppealDismissal:
		fmt.Fprintf(a.stdout, "appeal %d upheld by %s: case %d reopened\n", id, s.byName, p.CaseID)
	case !uphold && p.Kind == moderation.AppealDismissal:
		fmt.Fprintf(a.stdout, "appeal %d rejected by %s: case %d stays dismissed\n", id, s.byName, p.CaseID)
	case uphold:
		fmt.Fprintf(a.stdout, "appeal %d upheld by %s: action %d reversed\n", id, s.byName, p.ActionID)
	default:
		fmt.Fprintf(a.stdout, "appeal %d rejected by %s: action %d stands\n", id, s.byName, p.ActionID)
	}
	return nil
}

func (a *adminCmd) modFlagger(ctx context.Context, args []string) error {
	const help = "Usage: kurir admin mod flagger add USER --org NAME | flagger remove USER | flagger list\n\nTrusted flaggers are accounts of registered organisations (such as hotlines);\ntheir reports go ahead of the queue. Only admins change them.\n"
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(a.stdout, help)
		if len(args) == 0 {
			return usagef("admin mod flagger: name a command: add, remove or list")
		}
		return nil
	}
	cmd, rest := args[0], args[1:]
	nargs := map[string]int{"add": 1, "remove": 1, "list": 0}
	n, ok := nargs[cmd]
	if !ok {
		fmt.Fprint(a.stderr, help)
		return usagef("admin mod flagger: unknown command %q", cmd)
	}
	var org string
	s, pos, err := a.modSetup(ctx, "flagger "+cmd, help, rest, n, false, func(e envFlags) {
		if cmd == "add" {
			e.fs.StringVar(&org, "org", "", "the organisation the account flags for (required)")
		}
	})
	if err != nil {
		return err
	}
	defer s.close()
	if cmd == "list" {
		fs, err := s.mod.Flaggers(ctx, s.by)
		if err != nil {
			return s.modError(err)
		}
		tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "USER\tUSERNAME\tORGANISATION\tADDED")
		for _, f := range fs {
			name := "-"
			if u, err := s.acc.UserByID(ctx, f.User); err == nil && u.Username != "" {
				name = "@" + u.Username
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", f.User, name, oneLine(f.Organisation), f.AddedAt.Format(time.DateOnly))
		}
		return tw.Flush()
	}
	if cmd == "add" && strings.TrimSpace(org) == "" {
		return usagef("admin mod flagger add: --org is required: the organisation the account flags for")
	}
	u, err := findUser(ctx, s.acc, pos[0])
	if err != nil {
		return err
	}
	if cmd == "add" {
		if err := s.mod.AddFlagger(ctx, s.by, u.ID, org); err != nil {
			return s.modError(err)
		}
		fmt.Fprintf(a.stdout, "@%s (id %d) is a trusted flagger for %s\n", u.Username, u.ID, org)
		return nil
	}
	if err := s.mod.RemoveFlagger(ctx, s.by, u.ID); err != nil {
		return s.modError(err)
	}
	fmt.Fprintf(a.stdout, "@%s (id %d) is no longer a trusted flagger\n", u.Username, u.ID)
	return nil
}

func (a *adminCmd) modUser(ctx context.Context, args []string) error {
	s, rest, err := a.modSetup(ctx, "user", "Usage: kurir admin mod user USER\n\nShows an account as a reviewer sees it: its state, the decisions against its\ncontent or account, its open cases and its record as a reporter. The view is\nrecorded in the audit log.\n", args, 1, false, nil)
	if err != nil {
		return err
	}
	defer s.close()
	u, err := findUser(ctx, s.acc, rest[0])
	if err != nil {
		return err
	}
	r, err := s.mod.Account(ctx, s.by, u.ID)
	if err != nil {
		return s.modError(err)
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	state := describeState(r.User)
	fmt.Fprintf(tw, "user\t%d\nusername\t@%s\nname\t%s\nrole\t%s\nstate\t%s\njoined\t%s\nopen cases\t%d\nreports\t%d filed, %d led to action\n",
		r.User.ID, r.User.Username, orDash(oneLine(r.User.DisplayName)), r.User.Role, state, stamp(r.User.CreatedAt), r.OpenCases, r.Reports, r.ReportsActioned)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, "\nDECISIONS")
	tw = tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tAT\tKIND\tSUBJECT\tCASE\tCATEGORY\tUNTIL\tREVERSED\tFACTS")
	for _, x := range r.Actions {
		kind := string(x.Kind)
		if x.Label != "" {
			kind += ":" + x.Label
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", x.ID, stamp(x.At), kind, x.Subject.Key(), x.CaseID, x.Category,
			stamp(x.Until), stamp(x.Reversed), oneLine(x.Facts))
	}
	return tw.Flush()
}

func (a *adminCmd) modAssignAppeal(ctx context.Context, args []string) error {
	return a.modAssignTo(ctx, args, "assign-appeal", "appeal", "Usage: kurir admin mod assign-appeal APPEAL USER|none\n\nGives a pending appeal to a moderator or admin to decide, or, with none, to\nnobody. It cannot go to whoever took the decision under review.\n",
		func(s *modSession, id int64, to kurir.UserID) error { return s.mod.AssignAppeal(ctx, s.by, id, to) })
}

const adminModBulkHelp = `Usage: kurir admin mod bulk <command> [flags] [arguments]

One decision applied to every posting of a file: every message that carries
it (--kind remove_message) or every group and channel that posted it
(--kind takedown). Each subject gets a case, an action and a statement of
reasons of its own, acting as whoever requested it.

  preview --kind K --sha256 HEX --category C --facts TEXT [--ground G] [--law REF]
                                 what it would act on; changes nothing
  request (the same flags)       freeze the subjects and, up to the servers'
                                 --bulk-approval-above, act on them now;
                                 above it, wait for a second person
  list [--state pending|running|done|rejected]
                                 bulk actions, newest first
  show ID                        one, with how each subject fared
  approve ID                     let a pending one run (not its requester);
                                 it runs to the end before the command returns
  reject ID --reason TEXT        refuse a pending one
`

func (a *adminCmd) modBulk(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(a.stdout, adminModBulkHelp)
		if len(args) == 0 {
			return usagef("admin mod bulk: name a command: preview, request, list, show, approve or reject")
		}
		return nil
	}
	cmd, rest := args[0], args[1:]
	nargs := map[string]int{"preview": 0, "request": 0, "list": 0, "show": 1, "approve": 1, "reject": 1}
	n, ok := nargs[cmd]
	if !ok {
		fmt.Fprint(a.stderr, adminModBulkHelp)
		return usagef("admin mod bulk: unknown command %q", cmd)
	}
	var p moderation.BulkParams
	var kind, category, ground, state, reason string
	s, pos, err := a.modSetup(ctx, "bulk "+cmd, adminModBulkHelp, rest, n, cmd == "request" || cmd == "approve", func(e envFlags) {
		switch cmd {
		case "preview", "request":
			e.fs.StringVar(&kind, "kind", "", "remove_message (every message carrying the file) or takedown (every group and channel that posted it)")
			e.fs.StringVar(&p.SHA256, "sha256", "", "the file's SHA-256, as stored or as uploaded (hex)")
			e.fs.StringVar(&category, "category", "", "the category, e.g. terrorism, child_abuse")
			e.fs.StringVar(&p.Facts, "facts", "", "the facts every affected user reads in their statement of reasons")
			e.fs.StringVar(&ground, "ground", "terms", "terms or illegal (name the law with --law)")
			e.fs.StringVar(&p.LegalReference, "law", "", "the law the content breaks, required with --ground illegal")
		case "list":
			e.fs.StringVar(&state, "state", "pending", "pending, running, done or rejected")
		case "reject":
			e.fs.StringVar(&reason, "reason", "", "why, for the requester (required)")
		}
	})
	if err != nil {
		return err
	}
	defer s.close()
	p.Kind, p.Category, p.Ground = moderation.ActionKind(kind), moderation.Category(category), moderation.Ground(ground)
	var id int64
	if n == 1 {
		if id, err = parseID("bulk "+cmd, "bulk action", pos[0]); err != nil {
			return err
		}
	}
	switch cmd {
	case "preview":
		b, err := s.mod.PreviewBulk(ctx, s.by, p)
		if err != nil {
			return s.modError(err)
		}
		tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SUBJECT\tTITLE\tMEMBERS\tAFFECTED")
		for _, t := range b.Targets {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\n", t.Subject.Key(), orDash(oneLine(t.Title)), t.Members, t.Affected)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		approval := "it would start at once"
		if b.NeedsApproval {
			approval = "it would wait for a second person's approval"
		}
		fmt.Fprintf(a.stdout, "%d subjects; %s\n", len(b.Targets), approval)
		return nil
	case "request":
		b, err := s.mod.RequestBulk(ctx, s.by, p)
		if err != nil {
			return s.modError(err)
		}
		return a.printBulk(b, s.byName)
	case "approve":
		b, err := s.mod.ApproveBulk(ctx, s.by, id)
		if err != nil {
			return s.modError(err)
		}
		return a.printBulk(b, s.byName)
	case "reject":
		if strings.TrimSpace(reason) == "" {
			return usagef("admin mod bulk reject: --reason is required; the requester reads it")
		}
		if err := s.mod.RejectBulk(ctx, s.by, id, reason); err != nil {
			return s.modError(err)
		}
		fmt.Fprintf(a.stdout, "bulk action %d rejected by %s\n", id, s.byName)
		return nil
	case "show":
		b, results, err := s.mod.BulkProgress(ctx, s.by, id)
		if err != nil {
			return s.modError(err)
		}
		if err := a.printBulk(b, ""); err != nil {
			return err
		}
		tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SUBJECT\tSTATE\tCASE\tERROR")
		for _, r := range results {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Subject.Key(), r.State, who(kurir.UserID(r.CaseID), "-"), orDash(oneLine(r.Error)))
		}
		return tw.Flush()
	}
	bs, err := s.mod.BulkRequests(ctx, s.by, state, 200)
	if err != nil {
		return s.modError(err)
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tSHA256\tCATEGORY\tSUBJECTS\tREQUESTED\tBY\tSTATE\tDONE\tFAILED")
	for _, b := range bs {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%d\t%d\n", b.ID, b.Params.Kind, b.Params.SHA256, b.Params.Category, len(b.Subjects),
			stamp(b.Created), who(b.RequestedBy, "operator"), b.State, b.Done, b.Failed)
	}
	return tw.Flush()
}

// printBulk says where a bulk action stands, and who just moved it.
func (a *adminCmd) printBulk(b moderation.Bulk, byName string) error {
	by := ""
	if byName != "" {
		by = " by " + byName
	}
	switch b.State {
	case moderation.BulkPending:
		fmt.Fprintf(a.stdout, "bulk action %d requested%s: %s of %d subjects waits for a second person's approval\n", b.ID, by, b.Params.Kind, len(b.Subjects))
	default:
		fmt.Fprintf(a.stdout, "bulk action %d %s%s: %s of %d subjects, %d acted on, %d failed\n", b.ID, b.State, by, b.Params.Kind, len(b.Subjects), b.Done, b.Failed)
	}
	return nil
}
