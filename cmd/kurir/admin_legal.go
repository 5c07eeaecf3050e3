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
	"kurir/legal"
	"kurir/moderation"
)

const adminLegalHelp = `Usage: kurir admin legal agency <command> [flags] [arguments]

The law-enforcement agencies whose officers may use the portal at /legal.
An officer signs up with an e-mail address at one of the agency's
domains, verifies it, sets up an authenticator app and attests to acting
in an official capacity before seeing or filing anything. Changes act as
the operator (an admin with no account) and are written to the audit log.

  agency add NAME --country CC --domains DOMAIN,... [--jurisdiction TEXT] [--removal-orders]
                                 register an agency of country CC (ISO 3166-1
                                 alpha-2, such as DE) whose officers use the
                                 e-mail domains given; --removal-orders makes it
                                 a competent authority whose removal orders are
                                 enforced in CC at once, before legal review
  agency list                    list the agencies
  agency disable ID              keep an agency's officers out of the portal
                                 (its requests are kept)
  agency enable ID               let them in again

Run "kurir admin legal agency <command> --help" for a command's flags.
`

func (a *adminCmd) legal(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		if len(args) == 0 {
			fmt.Fprint(a.stderr, adminLegalHelp)
			return usagef("admin legal: name a command, e.g. kurir admin legal agency list")
		}
		fmt.Fprint(a.stdout, adminLegalHelp)
		return nil
	}
	if args[0] != "agency" {
		fmt.Fprint(a.stderr, adminLegalHelp)
		return usagef("admin legal: unknown command %q; say agency", args[0])
	}
	if len(args) < 2 || args[1] == "-h" || args[1] == "--help" || args[1] == "help" {
		if len(args) < 2 {
			fmt.Fprint(a.stderr, adminLegalHelp)
			return usagef("admin legal agency: say add, list, disable or enable")
		}
		fmt.Fprint(a.stdout, adminLegalHelp)
		return nil
	}
	switch cmd, rest := args[1], args[2:]; cmd {
	case "add":
		return a.agencyAdd(ctx, rest)
	case "list":
		return a.agencyList(ctx, rest)
	case "disable":
		return a.agencyDisable(ctx, "disable", rest, true)
	case "enable":
		return a.agencyDisable(ctx, "enable", rest, false)
	default:
		fmt.Fprint(a.stderr, adminLegalHelp)
		return usagef("admin legal agency: unknown command %q; say add, list, disable or enable", cmd)
	}
}

// legalSetup parses a command's flags (the common ones and the caller's
// through extra), checks it was given nargs arguments, and opens the legal
// service. The caller calls done.
func (a *adminCmd) legalSetup(ctx context.Context, name, help string, args []string, nargs int, extra func(envFlags)) (*legal.Service, func(), []string, error) {
	db, log, rest, err := a.open(ctx, "admin legal agency "+name, help, args, nargs, extra)
	if err != nil {
		return nil, nil, nil, err
	}
	// Agencies live in the database alone: no blob store, accounts,
	// messages or moderation are needed, and none are given.
	svc := legal.NewService(db, nil, nil, nil, nil, kurir.SystemClock{}, log.With("component", "legal"), legal.Config{})
	return svc, func() { db.Close() }, rest, nil
}

// legalError is the message for a refusal by the legal service: bad input
// is a usage error (exit status 2) naming the flag or argument at fault.
func legalError(command string, err error) error {
	var e *kurir.Error
	if !errors.As(err, &e) || e.Code != kurir.EInvalid {
		return clientError(err)
	}
	what := map[string]string{"name": "NAME", "country": "--country", "domains": "--domains", "jurisdiction": "--jurisdiction"}[e.Field]
	if what == "" {
		return usagef("admin legal agency %s: %s", command, kurir.ErrorMessage(err))
	}
	return usagef("admin legal agency %s: %s: %s", command, what, kurir.ErrorMessage(err))
}

const agencyAddHelp = `Usage: kurir admin legal agency add [flags] NAME

Registers a law-enforcement agency. Its officers sign up at /legal with an
e-mail address at one of --domains (exactly: a subdomain must be named
too). A domain belongs to one agency.

Example:
  kurir admin legal agency add "Bundeskriminalamt" --country DE --domains bka.bund.de --jurisdiction Federal
`

func (a *adminCmd) agencyAdd(ctx context.Context, args []string) error {
	var country, domains, jurisdiction string
	var removal bool
	svc, done, pos, err := a.legalSetup(ctx, "add", agencyAddHelp, args, 1, func(e envFlags) {
		e.fs.StringVar(&country, "country", "", "the agency's country, ISO 3166-1 alpha-2 such as DE (required)")
		e.fs.StringVar(&domains, "domains", "", "the e-mail domains its officers use, comma-separated (required)")
		e.fs.StringVar(&jurisdiction, "jurisdiction", "", "its jurisdiction within the country, such as Federal or Bavaria")
		e.fs.BoolVar(&removal, "removal-orders", false, "a competent authority for removal orders: they are enforced in its country at once")
	})
	if err != nil {
		return err
	}
	defer done()
	if country == "" {
		return usagef("admin legal agency add: --country is required, such as DE")
	}
	if strings.TrimSpace(domains) == "" {
		return usagef("admin legal agency add: --domains is required: the e-mail domains the agency's officers use")
	}
	ag := legal.Agency{Name: pos[0], Country: country, Jurisdiction: jurisdiction, Removal: removal}
	for _, d := range strings.Split(domains, ",") {
		if d = strings.TrimSpace(d); d != "" {
			ag.Domains = append(ag.Domains, d)
		}
	}
	ag, err = svc.AddAgency(ctx, moderation.Operator, ag)
	if err != nil {
		return legalError("add", err)
	}
	fmt.Fprintf(a.stdout, "agency %d: %s (%s), officers sign up with addresses at %s\n", ag.ID, ag.Name, ag.Country, strings.Join(ag.Domains, ", "))
	if ag.Removal {
		fmt.Fprintf(a.stdout, "its removal orders are enforced in %s at once, then reviewed\n", ag.Country)
	}
	return nil
}

func (a *adminCmd) agencyList(ctx context.Context, args []string) error {
	svc, done, _, err := a.legalSetup(ctx, "list", "Usage: kurir admin legal agency list [flags]\n\nLists the registered law-enforcement agencies.\n", args, 0, nil)
	if err != nil {
		return err
	}
	defer done()
	as, err := svc.Agencies(ctx)
	if err != nil {
		return err
	}
	if len(as) == 0 {
		fmt.Fprintln(a.stdout, `No agencies are registered; add one with "kurir admin legal agency add".`)
		return nil
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tCOUNTRY\tJURISDICTION\tDOMAINS\tREMOVAL ORDERS\tCREATED\tSTATUS")
	for _, ag := range as {
		status := "active"
		if !ag.Disabled.IsZero() {
			status = "disabled " + ag.Disabled.Format(time.DateOnly)
		}
		removal := "no"
		if ag.Removal {
			removal = "yes"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", ag.ID, ag.Name, ag.Country, orDash(ag.Jurisdiction), strings.Join(ag.Domains, ","),
			removal, ag.CreatedAt.Format(time.DateOnly), status)
	}
	return tw.Flush()
}

func (a *adminCmd) agencyDisable(ctx context.Context, command string, args []string, disabled bool) error {
	help := "Usage: kurir admin legal agency disable [flags] ID\n\nKeeps agency ID's officers out of the portal; its requests are kept.\n"
	if !disabled {
		help = "Usage: kurir admin legal agency enable [flags] ID\n\nLets agency ID's officers use the portal again.\n"
	}
	svc, done, pos, err := a.legalSetup(ctx, command, help, args, 1, nil)
	if err != nil {
		return err
	}
	defer done()
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || id <= 0 {
		return usagef("admin legal agency %s: %q is not an agency ID; see kurir admin legal agency list", command, pos[0])
	}
	if err := svc.SetAgencyDisabled(ctx, moderation.Operator, id, disabled); err != nil {
		return legalError(command, err)
	}
	fmt.Fprintf(a.stdout, "agency %d is %sd\n", id, command)
	return nil
}
