package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"kurir"
	"kurir/transparency/dsa"
)

const adminDSAHelp = `Usage: kurir admin dsa <command> [flags]

Statements of reasons for the EU DSA Transparency Database: every
moderation action, written in the database's API schema and checked
against it field by field. A server started with --dsa-endpoint and
--dsa-token-file submits them by itself every minute; these commands are
for looking and for one pass by hand.

  dsa export [--since DATE] [--pending]
                                 write the statements as JSON lines, oldest
                                 first: all of them, those of actions taken
                                 on or after DATE (YYYY-MM-DD, UTC), or those
                                 not yet accepted by the database
  dsa submit --endpoint URL --token-file FILE [--retry-failed]
                                 submit what is pending, 100 a call, and
                                 print what became of it; --retry-failed
                                 first makes the statements the database
                                 refused pending again
  dsa status                     how many are pending, accepted, refused and
                                 skipped, and why the latest were refused

Actions that restrict content only outside the EEA have no statement: the
database takes territorial scopes in the EEA only. They are skipped.
`

func (a *adminCmd) dsa(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		if len(args) == 0 {
			fmt.Fprint(a.stderr, adminDSAHelp)
			return usagef("admin dsa: name a command, e.g. kurir admin dsa status")
		}
		fmt.Fprint(a.stdout, adminDSAHelp)
		return nil
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "export":
		return a.dsaExport(ctx, rest)
	case "submit":
		return a.dsaSubmit(ctx, rest)
	case "status":
		return a.dsaStatus(ctx, rest)
	default:
		fmt.Fprint(a.stderr, adminDSAHelp)
		return usagef("admin dsa: unknown command %q; say export, submit or status", cmd)
	}
}

const dsaExportHelp = `Usage: kurir admin dsa export [--since DATE] [--pending] [flags]

Writes the statement of reasons of each moderation action to standard
output, one JSON object a line, in the DSA Transparency Database's schema,
oldest first. Each was checked against the schema; an action whose
statement cannot be written is named on standard error and the command
fails after writing the rest.
`

func (a *adminCmd) dsaExport(ctx context.Context, args []string) error {
	var since, terms string
	var pending bool
	db, _, _, err := a.open(ctx, "admin dsa export", dsaExportHelp, args, 0, func(e envFlags) {
		e.fs.StringVar(&since, "since", "", "only actions taken on or after this day, YYYY-MM-DD (UTC)")
		e.fs.BoolVar(&pending, "pending", false, "only statements the database has not accepted yet")
		termsFlag(e, &terms)
	})
	if err != nil {
		return err
	}
	defer db.Close()
	opts := dsa.ExportOptions{Pending: pending, TermsURL: terms}
	if since != "" {
		if opts.Since, err = time.Parse(time.DateOnly, since); err != nil {
			return usagef("admin dsa export: --since %q: want a day such as 2026-01-31", since)
		}
	}
	enc := json.NewEncoder(a.stdout)
	enc.SetEscapeHTML(false)
	n := 0
	err = dsa.Export(ctx, db.Read(), opts, func(_ int64, s dsa.Statement) error {
		n++
		return enc.Encode(s)
	})
	if err != nil {
		var bad interface{ Unwrap() []error }
		if errors.As(err, &bad) {
			for _, e := range bad.Unwrap() {
				fmt.Fprintln(a.stderr, e)
			}
			return fmt.Errorf("%d statements written; %d could not be", n, len(bad.Unwrap()))
		}
		return err
	}
	fmt.Fprintf(a.stderr, "%d statements written\n", n)
	return nil
}

const dsaSubmitHelp = `Usage: kurir admin dsa submit --endpoint URL --token-file FILE [--retry-failed] [flags]

Submits the statements of reasons the DSA Transparency Database has not
accepted yet, at most 100 a call, and records what became of each, as a
server with --dsa-endpoint does every minute. A call the database does not
answer, or answers with a server error, is tried again a few times. The
token is read from a file so that it is not in the process list.

Example:
  kurir admin dsa submit --endpoint https://transparency.dsa.ec.europa.eu --token-file /etc/kurir/dsa-token
`

func (a *adminCmd) dsaSubmit(ctx context.Context, args []string) error {
	var endpoint, tokenFile, terms string
	var retry bool
	db, log, _, err := a.open(ctx, "admin dsa submit", dsaSubmitHelp, args, 0, func(e envFlags) {
		e.string(&endpoint, "endpoint", "KURIR_DSA_ENDPOINT", "", "base URL of the DSA Transparency Database API (required)")
		e.string(&tokenFile, "token-file", "KURIR_DSA_TOKEN_FILE", "", "file holding the API token (required)")
		e.fs.BoolVar(&retry, "retry-failed", false, "first make the statements the database refused pending again")
		termsFlag(e, &terms)
	})
	if err != nil {
		return err
	}
	defer db.Close()
	if err := checkDSAEndpoint(endpoint); err != nil {
		return usagef("admin dsa submit: --endpoint: %v", err)
	}
	token, err := readDSAToken(tokenFile)
	if err != nil {
		return usagef("admin dsa submit: --token-file: %v", err)
	}
	e := &dsa.Exporter{DB: db, Endpoint: endpoint, Token: token, Log: log.With("component", "dsa"), TermsURL: terms}
	if retry {
		n, err := e.Retry(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "%d refused statements made pending again\n", n)
	}
	sum, err := e.SubmitPending(ctx)
	if aerr := a.audit(ctx, "admin.dsa_submit", "dsa", fmt.Sprintf("%s: %s", endpoint, sum)); aerr != nil && err == nil {
		err = aerr
	}
	fmt.Fprintf(a.stdout, "%s\n", sum)
	if err != nil {
		return clientError(err)
	}
	return nil
}

func (a *adminCmd) dsaStatus(ctx context.Context, args []string) error {
	db, _, _, err := a.open(ctx, "admin dsa status", "Usage: kurir admin dsa status [flags]\n\nCounts the statements of reasons by what became of them, and shows why the latest were refused.\n", args, 0, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	p, err := dsa.ReadProgress(ctx, db.Read(), 20)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "pending %d, accepted %d, refused %d, skipped %d\n", p.Pending, p.Accepted, p.Failed, p.Skipped)
	if len(p.Failures) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nACTION\tREFUSED\tWHY")
	for _, f := range p.Failures {
		fmt.Fprintf(tw, "%d\t%s\t%s\n", f.ActionID, f.At.Format(time.DateTime), shortLine(f.Response, 200))
	}
	return tw.Flush()
}

// checkDSAEndpoint accepts an http or https URL with a host.
func checkDSAEndpoint(endpoint string) error {
	if endpoint == "" {
		return errors.New("required")
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%q: want an https:// URL such as https://transparency.dsa.ec.europa.eu", endpoint)
	}
	return nil
}

// readDSAToken reads the API token from a file, ignoring surrounding space.
// termsFlag is --terms-url, as kurir serve takes it, so that statements
// exported or submitted from the command line link their terms clause as
// the server's do.
func termsFlag(e envFlags, terms *string) {
	e.string(terms, "terms-url", "KURIR_TERMS_URL", "", "the servers' --terms-url: decisions on the terms link to their clause there")
}

func readDSAToken(file string) (string, error) {
	if file == "" {
		return "", errors.New("required")
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	token := strings.TrimSpace(string(b))
	if token == "" || strings.ContainsAny(token, "\r\n") {
		return "", fmt.Errorf("%s: want the token alone on one line", file)
	}
	return token, nil
}

// shortLine shortens s to one line of at most n characters.
func shortLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		s = string(r[:n-1]) + "…"
	}
	return s
}

// dsaExporter is the background job of a server with --dsa-endpoint: nil
// without it.
func dsaExporter(endpoint, tokenFile string, deps dsa.Exporter) (*dsa.Exporter, error) {
	if endpoint == "" && tokenFile == "" {
		return nil, nil
	}
	if endpoint == "" || tokenFile == "" {
		return nil, usagef("--dsa-endpoint and --dsa-token-file go together")
	}
	if err := checkDSAEndpoint(endpoint); err != nil {
		return nil, usagef("--dsa-endpoint: %v", err)
	}
	token, err := readDSAToken(tokenFile)
	if err != nil {
		return nil, usagef("--dsa-token-file: %v", err)
	}
	deps.Endpoint, deps.Token = endpoint, token
	if deps.Clock == nil {
		deps.Clock = kurir.SystemClock{}
	}
	return &deps, nil
}
