package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"kurir"
	"kurir/account"
	"kurir/audit"
	"kurir/moderation"
	"kurir/sqldb"
)

const adminHelp = `Usage: kurir admin <area> <command> [flags] [arguments]

Operator tasks, run against the same database as the server (it may be
running). Areas:

  user create [--role ROLE] [--display-name NAME] [--email E] [--phone P] USERNAME
                                 create an account; the password is asked for
                                 (or read from standard input, or generated)
  user list                      list accounts
  user show USERNAME             show one account
  user role USERNAME ROLE        set the role: user, triage, moderator, legal, admin
  user suspend USERNAME --for DURATION|--until TIME --reason TEXT
                                 stop an account from acting for a while
  user ban USERNAME --reason TEXT
                                 stop an account from acting until reinstated
                                 (both are moderation decisions: a case, a
                                 statement of reasons, an appeal)
  user reinstate USERNAME        lift its suspensions and bans (reverses them)
  user reset-2fa USERNAME        remove a lost authenticator app: the next
                                 login needs the password alone
  bank create|list|import|disable|enable
                                 hash banks of known harmful content; see
                                 "kurir admin bank --help"
  geo import|lookup|status       the IP-to-country table, for per-country
                                 rules; see "kurir admin geo --help"
  media remove SHA256 --reason TEXT | media restore SHA256
                                 take a file down by hash everywhere at once
  mod queue|case|act|reverse|dismiss|escalate|comment|assign|appeals|decide|flagger
                                 the moderation console's work, for scripts;
                                 see "kurir admin mod --help"
  jurisdiction list|set|rule|where
                                 markets (open, restricted, withdrawn) and the
                                 country rules; see "kurir admin jurisdiction --help"
  legal agency add|list|disable|enable
                                 law-enforcement agencies whose officers use the
                                 portal; see "kurir admin legal --help"
  transparency rebuild|show|halfyear
                                 the public transparency reports: recompute
                                 past days, print one, write the DSA half-year
                                 report; see "kurir admin transparency --help"
  dsa export|submit|status      statements of reasons for the EU DSA
                                 Transparency Database; see "kurir admin dsa --help"

Run "kurir admin user <command> --help" for a command's flags.
`

func runAdmin(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) == 0 {
			fmt.Fprint(stderr, adminHelp)
			return usagef("admin: name an area, e.g. kurir admin user list")
		}
		fmt.Fprint(stdout, adminHelp)
		return nil
	}
	if args[0] == "bank" || args[0] == "media" || args[0] == "mod" || args[0] == "geo" || args[0] == "jurisdiction" || args[0] == "legal" || args[0] == "transparency" || args[0] == "dsa" {
		a := &adminCmd{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
		switch args[0] {
		case "geo":
			return a.geo(ctx, args[1:])
		case "jurisdiction":
			return a.jurisdiction(ctx, args[1:])
		case "legal":
			return a.legal(ctx, args[1:])
		case "media":
			return a.media(ctx, args[1:])
		case "mod":
			return a.mod(ctx, args[1:])
		case "transparency":
			return a.transparency(ctx, args[1:])
		case "dsa":
			return a.dsa(ctx, args[1:])
		}
		return a.bank(ctx, args[1:])
	}
	if args[0] != "user" {
		fmt.Fprint(stderr, adminHelp)
		return usagef("admin: unknown area %q", args[0])
	}
	if len(args) < 2 || args[1] == "-h" || args[1] == "--help" {
		fmt.Fprint(stdout, adminHelp)
		if len(args) < 2 {
			return usagef("admin user: name a command, e.g. kurir admin user list")
		}
		return nil
	}
	cmd, rest := args[1], args[2:]
	a := &adminCmd{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	switch cmd {
	case "create":
		return a.userCreate(ctx, rest)
	case "list":
		return a.userList(ctx, rest)
	case "show":
		return a.userShow(ctx, rest)
	case "role":
		return a.userRole(ctx, rest)
	case "suspend":
		return a.userSuspend(ctx, rest)
	case "ban":
		return a.userBan(ctx, rest)
	case "reinstate":
		return a.userReinstate(ctx, rest)
	case "reset-2fa":
		return a.userReset2FA(ctx, rest)
	default:
		fmt.Fprint(stderr, adminHelp)
		return usagef("admin user: unknown command %q", cmd)
	}
}

type adminCmd struct {
	getenv         func(string) string
	stdin          io.Reader
	stdout, stderr io.Writer
	common
	argon account.Argon2Params
	db    *sqldb.DB // once open has opened it
}

// audit appends to the audit log what the operator did from the command
// line: actor 0 (no account) with the admin role.
func (a *adminCmd) audit(ctx context.Context, action, subject, detail string) error {
	if _, err := audit.Record(ctx, a.db, audit.Entry{Role: kurir.RoleAdmin, Action: action, Subject: subject, Detail: detail}); err != nil {
		return fmt.Errorf("done, but not recorded in the audit log: %w", err)
	}
	return nil
}

// setup parses flags (after the caller added its own), checks the number of
// positional arguments and opens the account service.
func (a *adminCmd) setup(ctx context.Context, name, help string, args []string, nargs int, extra func(envFlags)) (*account.Service, func(), []string, error) {
	db, log, rest, err := a.open(ctx, "admin user "+name, help, args, nargs, func(e envFlags) {
		registerArgon(e, &a.argon)
		if extra != nil {
			extra(e)
		}
	})
	if err != nil {
		return nil, nil, nil, err
	}
	svc := account.NewService(db, kurir.SystemClock{}, log, account.Config{Argon2: a.argon})
	return svc, func() { db.Close() }, rest, nil
}

// open parses an admin command's flags (the common ones, and the caller's
// through extra), checks that it was given nargs positional arguments, and
// opens the database. The caller closes it.
func (a *adminCmd) open(ctx context.Context, command, help string, args []string, nargs int, extra func(envFlags)) (*sqldb.DB, *slog.Logger, []string, error) {
	fs, e := newFlagSet(command, help, a.getenv, a.stdout, a.stderr)
	a.common.register(e)
	if extra != nil {
		extra(e)
	}
	if err := parse(e, interspersed(fs, args), a.stdout); err != nil {
		return nil, nil, nil, err
	}
	if fs.NArg() != nargs {
		fs.Usage()
		return nil, nil, nil, usagef("%s: want %d argument(s), got %d", command, nargs, fs.NArg())
	}
	log, err := a.logger(a.stderr)
	if err != nil {
		return nil, nil, nil, err
	}
	db, err := a.openDB(ctx, log)
	if err != nil {
		return nil, nil, nil, err
	}
	a.db = db
	return db, log, fs.Args(), nil
}

// interspersed moves positional arguments after the flags, so that
// "user create alice --role admin" works as a person would type it.
func interspersed(fs *flag.FlagSet, args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if len(arg) < 2 || arg[0] != '-' {
			pos = append(pos, arg)
			continue
		}
		flags = append(flags, arg)
		name := strings.TrimLeft(arg, "-")
		if strings.Contains(name, "=") {
			continue
		}
		f := fs.Lookup(name)
		if f == nil {
			continue // parse reports it
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			continue
		}
		if i+1 < len(args) {
			i++
			flags = append(flags, args[i])
		}
	}
	return append(append(flags, "--"), pos...)
}

const userCreateHelp = `Usage: kurir admin user create [flags] USERNAME

Creates an account. The password is read from the terminal (asked twice,
not shown), or as the first line of standard input when it is not a
terminal. With empty standard input a strong password is generated and
printed once.

Example: kurir admin user create --role admin alice
`

func (a *adminCmd) userCreate(ctx context.Context, args []string) error {
	var role, display, email, phone string
	svc, done, pos, err := a.setup(ctx, "create", userCreateHelp, args, 1, func(e envFlags) {
		e.fs.StringVar(&role, "role", "user", "role: user, triage, moderator, legal or admin")
		e.fs.StringVar(&display, "display-name", "", "name shown to others (default: the username)")
		e.fs.StringVar(&email, "email", "", "e-mail address, for account recovery")
		e.fs.StringVar(&phone, "phone", "", "phone number with country code, e.g. +62 812 3456 7890")
	})
	if err != nil {
		return err
	}
	defer done()
	password, generated, err := a.readPassword()
	if err != nil {
		return err
	}
	u, err := svc.Register(ctx, account.RegisterParams{
		Username: pos[0], Password: password, DisplayName: display, Email: email, Phone: phone, Role: kurir.Role(role),
	})
	if err != nil {
		return clientError(err)
	}
	if err := a.audit(ctx, "admin.user_create", fmt.Sprintf("user:%d", u.ID), "role "+string(u.Role)); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "created user %s (id %d, role %s)\n", u.Username, u.ID, u.Role)
	if generated {
		fmt.Fprintf(a.stdout, "password: %s\n(shown only now: keep it somewhere safe)\n", password)
	}
	return nil
}

// readPassword asks for the new account's password as the help text says.
func (a *adminCmd) readPassword() (password string, generated bool, err error) {
	if f, ok := a.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(a.stderr, "Password: ")
		p1, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(a.stderr)
		if err != nil {
			return "", false, fmt.Errorf("read password: %w", err)
		}
		fmt.Fprint(a.stderr, "Password again: ")
		p2, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(a.stderr)
		if err != nil {
			return "", false, fmt.Errorf("read password: %w", err)
		}
		if string(p1) != string(p2) {
			return "", false, errors.New("the two passwords differ")
		}
		return string(p1), false, nil
	}
	line, err := bufio.NewReader(a.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", false, fmt.Errorf("read password from standard input: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return rand.Text(), true, nil
	}
	return line, false, nil
}

// clientError turns a service error into the message a person at the
// terminal needs: the client-safe text, without internal wrapping.
func clientError(err error) error {
	var e *kurir.Error
	if errors.As(err, &e) && e.Code != kurir.EInternal {
		return errors.New(e.Message)
	}
	return err
}

func (a *adminCmd) userList(ctx context.Context, args []string) error {
	svc, done, _, err := a.setup(ctx, "list", "Usage: kurir admin user list [flags]\n\nLists every account.\n", args, 0, nil)
	if err != nil {
		return err
	}
	defer done()
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tUSERNAME\tROLE\tSTATE\tCREATED")
	var after kurir.UserID
	for {
		users, err := svc.Users(ctx, after, 500)
		if err != nil {
			return err
		}
		for _, u := range users {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", u.ID, orDash(u.Username), u.Role, describeState(u), u.CreatedAt.Format(time.DateOnly))
			after = u.ID
		}
		if len(users) < 500 {
			break
		}
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func describeState(u account.User) string {
	switch {
	case u.State == account.StateSuspended && time.Now().Before(u.SuspendedUntil):
		return "suspended until " + u.SuspendedUntil.Format(time.RFC3339)
	case u.State == account.StateSuspended:
		return "active (suspension ended)"
	case !u.DeletionScheduledAt.IsZero() && u.State != account.StateDeleted:
		return string(u.State) + ", deletion scheduled " + u.DeletionScheduledAt.Format(time.RFC3339)
	default:
		return string(u.State)
	}
}

func (a *adminCmd) find(ctx context.Context, svc *account.Service, name string) (account.User, error) {
	u, err := svc.UserByUsername(ctx, name)
	if kurir.ErrorCode(err) == kurir.ENotFound {
		return u, fmt.Errorf("no user named %q", name)
	}
	return u, err
}

func (a *adminCmd) userShow(ctx context.Context, args []string) error {
	svc, done, pos, err := a.setup(ctx, "show", "Usage: kurir admin user show [flags] USERNAME\n\nShows one account.\n", args, 1, nil)
	if err != nil {
		return err
	}
	defer done()
	u, err := a.find(ctx, svc, pos[0])
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "id\t%d\nusername\t%s\ndisplay name\t%s\nrole\t%s\nstate\t%s\n", u.ID, u.Username, u.DisplayName, u.Role, describeState(u))
	if u.StateReason != "" {
		fmt.Fprintf(tw, "reason\t%s\n", u.StateReason)
	}
	fmt.Fprintf(tw, "email\t%s\nphone\t%s\ncreated\t%s\n", orDash(u.Email), orDash(u.Phone), u.CreatedAt.Format(time.RFC3339))
	fmt.Fprintf(tw, "authenticator\t%s\n", map[bool]string{true: "on", false: "off"}[u.TOTP])
	return tw.Flush()
}

const reset2FAHelp = `Usage: kurir admin user reset-2fa [flags] USERNAME

Removes an account's authenticator app (second factor), for someone who lost
it: the next login needs the password alone, and a staff member must set up
a new one in Settings before using the staff tools again (unless the server
runs with --staff-2fa optional). Check who is asking before you do this:
with the password, it is all an attacker would need. It is audited.
`

// userReset2FA is "admin user reset-2fa": the way back in for someone whose
// authenticator is lost, as nobody else can turn it off without a code.
func (a *adminCmd) userReset2FA(ctx context.Context, args []string) error {
	svc, done, pos, err := a.setup(ctx, "reset-2fa", reset2FAHelp, args, 1, nil)
	if err != nil {
		return err
	}
	defer done()
	u, err := a.find(ctx, svc, pos[0])
	if err != nil {
		return err
	}
	if !u.TOTP {
		return fmt.Errorf("%s has no authenticator app set up", u.Username)
	}
	if err := svc.ResetTOTP(ctx, u.ID); err != nil {
		return clientError(err)
	}
	if err := a.audit(ctx, "admin.reset_2fa", fmt.Sprintf("user:%d", u.ID), "authenticator removed"); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "%s's authenticator app is removed; the next login needs the password alone\n", u.Username)
	return nil
}

func (a *adminCmd) userRole(ctx context.Context, args []string) error {
	svc, done, pos, err := a.setup(ctx, "role", "Usage: kurir admin user role [flags] USERNAME ROLE\n\nSets an account's role: user, triage, moderator, legal or admin.\n", args, 2, nil)
	if err != nil {
		return err
	}
	defer done()
	u, err := a.find(ctx, svc, pos[0])
	if err != nil {
		return err
	}
	if err := svc.SetRole(ctx, u.ID, kurir.Role(pos[1])); err != nil {
		return clientError(err)
	}
	if err := a.audit(ctx, "admin.role", fmt.Sprintf("user:%d", u.ID), string(u.Role)+" -> "+pos[1]); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "%s is now %s\n", u.Username, pos[1])
	return nil
}

const suspendHelp = `Usage: kurir admin user suspend [flags] USERNAME

Stops an account from logging in or acting until the suspension ends. This
is a moderation decision like one taken in the console: it opens a case on
the platform's own initiative (or decides the account's open one), and the
owner gets a statement of reasons with --reason as its facts, and can
appeal it. Every request it makes is refused from now on; a live stream it
already has open ends only when it reconnects (a suspension from the
console ends them at once).

Example: kurir admin user suspend mallory --for 72h --reason "Spam in public groups"
`

const banHelp = `Usage: kurir admin user ban [flags] USERNAME

Stops an account from logging in or acting until it is reinstated. Like
suspend, this is a moderation decision: a case, a statement of reasons with
--reason as its facts, and an appeal.

Example: kurir admin user ban mallory --category scam --reason "Sold fake tickets in three groups"
`

// userDecision is "admin user suspend" and "admin user ban": a decision
// on the platform's own initiative against the account, through
// moderation, so that the owner is owed a statement of reasons and can
// appeal, and the decision is counted for transparency.
func (a *adminCmd) userDecision(ctx context.Context, kind moderation.ActionKind, help string, args []string) error {
	var dur, until, reason, category, ground, law string
	s, pos, err := a.openMod(ctx, "admin user "+string(kind), help, args, 1, true, func(e envFlags) {
		if kind == moderation.Suspend {
			e.fs.StringVar(&dur, "for", "", "how long, e.g. 72h or 7d")
			e.fs.StringVar(&until, "until", "", "when it ends, RFC 3339, e.g. 2026-12-24T00:00:00Z")
		}
		e.fs.StringVar(&reason, "reason", "", "why: the facts the owner reads in their statement of reasons (required)")
		e.fs.StringVar(&category, "category", string(moderation.OtherCategory), "what it falls under: spam, scam, harassment... (see kurir admin mod queue --help)")
		e.fs.StringVar(&ground, "ground", "terms", "terms (against the terms of service) or illegal (name the law with --law)")
		e.fs.StringVar(&law, "law", "", "the law broken, required with --ground illegal")
	})
	if err != nil {
		return err
	}
	defer s.close()
	p := moderation.ActParams{Kind: kind, Category: moderation.Category(category), Ground: moderation.Ground(ground), LegalReference: law, Facts: reason}
	if kind == moderation.Suspend {
		switch {
		case dur != "" && until == "":
			d, err := parseSpan(dur)
			if err != nil || d <= 0 {
				return usagef("admin user suspend: --for %q: want a length such as 7d, 36h or 1d12h", dur)
			}
			p.Until = time.Now().Add(d)
		case dur == "" && until != "":
			if p.Until, err = time.Parse(time.RFC3339, until); err != nil {
				return usagef("--until %q: want a time like 2026-12-24T00:00:00Z", until)
			}
		default:
			return usagef("admin user suspend: give exactly one of --for and --until")
		}
	}
	if strings.TrimSpace(reason) == "" {
		return usagef("admin user %s: --reason is required; the account's owner reads it in their statement of reasons", kind)
	}
	u, err := findUser(ctx, s.acc, pos[0])
	if err != nil {
		return err
	}
	x, err := s.mod.ActOnOwnInitiative(ctx, s.by, moderation.Subject{Kind: moderation.SubjectUser, User: u.ID}, p,
		"kurir admin user "+string(kind)+" by "+s.byName)
	if err != nil {
		return s.modError(err)
	}
	state := "banned"
	if kind == moderation.Suspend {
		state = "suspended until " + x.Until.UTC().Format(time.RFC3339)
	}
	fmt.Fprintf(a.stdout, "%s is %s (action %d, case %d); they can read the statement of reasons and appeal it\n", u.Username, state, x.ID, x.CaseID)
	return nil
}

func (a *adminCmd) userSuspend(ctx context.Context, args []string) error {
	return a.userDecision(ctx, moderation.Suspend, suspendHelp, args)
}

func (a *adminCmd) userBan(ctx context.Context, args []string) error {
	return a.userDecision(ctx, moderation.Ban, banHelp, args)
}

const reinstateHelp = `Usage: kurir admin user reinstate [flags] USERNAME

Lifts an account's suspensions and bans: reverses every one still in force,
as "kurir admin mod reverse" would, so that each statement of reasons says
it was reversed and why (--reason). A suspension or ban set outside
moderation (by an older kurir) is lifted directly.
`

func (a *adminCmd) userReinstate(ctx context.Context, args []string) error {
	var reason string
	s, pos, err := a.openMod(ctx, "admin user reinstate", reinstateHelp, args, 1, false, func(e envFlags) {
		e.fs.StringVar(&reason, "reason", "Reinstated by the service's operator.", "why, as the owner reads it in each statement of reasons")
	})
	if err != nil {
		return err
	}
	defer s.close()
	u, err := findUser(ctx, s.acc, pos[0])
	if err != nil {
		return err
	}
	acts, _, err := s.mod.Statements(ctx, u.ID)
	if err != nil {
		return err
	}
	now := time.Now()
	var reversed []string
	for _, x := range acts {
		if (x.Kind == moderation.Ban || x.Kind == moderation.Suspend && x.Until.After(now)) && x.Reversed.IsZero() && x.Subject.User == u.ID {
			if err := s.mod.Reverse(ctx, s.by, x.ID, reason); err != nil {
				return s.modError(err)
			}
			reversed = append(reversed, fmt.Sprintf("%s %d", x.Kind, x.ID))
		}
	}
	if len(reversed) > 0 {
		fmt.Fprintf(a.stdout, "%s is active again: reversed %s\n", u.Username, strings.Join(reversed, ", "))
		return nil
	}
	if u.State != account.StateSuspended && u.State != account.StateBanned {
		fmt.Fprintf(a.stdout, "%s is not suspended or banned\n", u.Username)
		return nil
	}
	// Set by an older kurir, outside moderation: nothing to reverse.
	if err := s.acc.Reinstate(ctx, u.ID); err != nil {
		return clientError(err)
	}
	if err := a.audit(ctx, "admin.reinstate", fmt.Sprintf("user:%d", u.ID), string(u.State)+" (set outside moderation) ["+s.by.Via+"]"); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "%s is active again\n", u.Username)
	return nil
}
