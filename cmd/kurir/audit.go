package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"kurir"
	"kurir/audit"
	"kurir/sqldb"
)

const auditHelp = `Usage: kurir audit <command> [flags]

The audit log records every privileged read or write: what moderators, legal
staff and administrators looked at or changed. Each entry's hash covers the
entry before it, so an edited, deleted or cut-off entry breaks the chain.

  verify [--check-head ID:HASH] [--heads FILE]
                                 check the whole chain; print the number of
                                 entries and the head, ID:HASH, or name the
                                 first broken entry and fail. Keep the head
                                 somewhere else: --check-head with it later
                                 shows whether the log was rewritten since.
                                 --heads checks every head in a file that
                                 "kurir serve" anchored (DATA-DIR/audit-heads.log
                                 by default; see --audit-heads) and names the
                                 first one the log no longer matches
  list [--actor ID] [--subject S] [--action A] [--before ID] [--limit N]
                                 entries, newest first: ID, time, actor,
                                 role, action, subject, detail
`

func runAudit(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) == 0 {
			fmt.Fprint(stderr, auditHelp)
			return usagef("audit: name a command, e.g. kurir audit verify")
		}
		fmt.Fprint(stdout, auditHelp)
		return nil
	}
	a := &adminCmd{getenv: getenv, stdout: stdout, stderr: stderr}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "verify":
		return a.auditVerify(ctx, rest)
	case "list":
		return a.auditList(ctx, rest)
	default:
		fmt.Fprint(stderr, auditHelp)
		return usagef("audit: unknown command %q", cmd)
	}
}

func (a *adminCmd) auditVerify(ctx context.Context, args []string) error {
	var checkHead, headsFile string
	db, _, _, err := a.open(ctx, "audit verify", auditHelp, args, 0, func(e envFlags) {
		e.fs.StringVar(&checkHead, "check-head", "", "a head printed by an earlier verify, ID:HASH: fail unless that entry still has that hash")
		e.fs.StringVar(&headsFile, "heads", "", "a file of heads anchored by kurir serve (--audit-heads): fail unless the log still matches every one")
	})
	if err != nil {
		return err
	}
	defer db.Close()
	// The file is read before the log, so a file that is not evidence is
	// said first.
	var heads []audit.Head
	if headsFile != "" {
		if heads, err = readHeadsFile(headsFile); err != nil {
			return err
		}
	}
	var wantID int64
	var wantHash string
	if checkHead != "" {
		id, hash, ok := strings.Cut(checkHead, ":")
		if wantID, err = strconv.ParseInt(id, 10, 64); !ok || err != nil || wantID < 1 || len(hash) != 64 {
			return usagef("audit verify: --check-head %q: want ID:HASH as verify printed it", checkHead)
		}
		wantHash = strings.ToLower(hash)
	}
	r, err := audit.Verify(ctx, db.Read())
	if err != nil {
		return err
	}
	if !r.OK {
		if r.BrokenAt == 0 {
			return fmt.Errorf("audit log broken: %s", r.Problem)
		}
		return fmt.Errorf("audit log broken at entry %d: %s", r.BrokenAt, r.Problem)
	}
	if wantID != 0 {
		// The chain is intact, so entry wantID exists if the log is that long.
		es, err := audit.List(ctx, db.Read(), audit.Filter{Before: wantID + 1, Limit: 1})
		if err != nil {
			return err
		}
		if len(es) == 0 || es[0].ID != wantID {
			return fmt.Errorf("audit log broken: it has %d entries, fewer than the %d of the head you checked", r.Entries, wantID)
		}
		if es[0].Hash != wantHash {
			return fmt.Errorf("audit log broken at or before entry %d: its hash is no longer the one you checked (the log was rewritten)", wantID)
		}
	}
	if headsFile != "" {
		if err := checkAnchoredHeads(ctx, db.Read(), headsFile, heads); err != nil {
			return err
		}
	}
	fmt.Fprintf(a.stdout, "audit log: %d entries, chain intact\n", r.Entries)
	if wantID != 0 {
		fmt.Fprintf(a.stdout, "entry %d still has the hash you checked\n", wantID)
	}
	if headsFile != "" {
		fmt.Fprintf(a.stdout, "%d anchored heads in %s still match\n", len(heads), headsFile)
	}
	if r.Entries > 0 {
		fmt.Fprintf(a.stdout, "head: %d:%s\n", r.Entries, r.Head)
	}
	return nil
}

// readHeadsFile reads the heads anchored in the file at path. A file with no
// head is refused: checking it would prove nothing.
func readHeadsFile(path string) ([]audit.Head, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("audit verify: --heads: %w", err)
	}
	defer f.Close()
	heads, err := audit.ReadHeads(f)
	if err != nil {
		return nil, fmt.Errorf("audit verify: --heads %s: %w", path, err)
	}
	if len(heads) == 0 {
		return nil, fmt.Errorf("audit verify: --heads %s: the file has no heads", path)
	}
	return heads, nil
}

// checkAnchoredHeads fails, naming the first anchored head (by its line in
// the file) that the log no longer matches, and bounds where the rewrite
// began by the last head that still matches.
func checkAnchoredHeads(ctx context.Context, q sqldb.Querier, path string, heads []audit.Head) error {
	r, err := audit.CheckHeads(ctx, q, heads)
	if err != nil {
		return err
	}
	if r.First < 0 {
		return nil
	}
	h := heads[r.First]
	var b strings.Builder
	fmt.Fprintf(&b, "audit log rewritten: the head on line %d of %s (entry %d", h.Line, path, h.ID)
	if !h.At.IsZero() {
		fmt.Fprintf(&b, ", anchored %s", h.At.UTC().Format(time.RFC3339))
	}
	if r.Now == "" {
		fmt.Fprintf(&b, ") no longer matches: the log has no entry %d", h.ID)
	} else {
		fmt.Fprintf(&b, ") no longer matches: entry %d's hash was %s and is now %s", h.ID, h.Hash, r.Now)
	}
	fmt.Fprintf(&b, "; %d of %d anchored heads fail", r.Failed, r.Checked)
	if r.LastGood >= 0 {
		g := heads[r.LastGood]
		fmt.Fprintf(&b, "; the head on line %d (entry %d) still matches, so the rewrite began after entry %d", g.Line, g.ID, g.ID)
	}
	return errors.New(b.String())
}

// auditList prints the selected entries, newest first, paging through the
// log so that --limit may exceed what one query returns.
func (a *adminCmd) auditList(ctx context.Context, args []string) error {
	var actor, before int64
	var subject, action string
	var limit int
	db, _, _, err := a.open(ctx, "audit list", auditHelp, args, 0, func(e envFlags) {
		e.fs.Int64Var(&actor, "actor", 0, "only this user ID's entries")
		e.fs.StringVar(&subject, "subject", "", "only entries about this subject, e.g. chat:5 or user:3")
		e.fs.StringVar(&action, "action", "", "only entries of this action, e.g. case.view")
		e.fs.Int64Var(&before, "before", 0, "only entries older than this entry ID")
		e.fs.IntVar(&limit, "limit", audit.DefaultLimit, "at most this many entries (0: all)")
	})
	if err != nil {
		return err
	}
	defer db.Close()
	if limit < 0 {
		return usagef("audit list: --limit %d: want 0 (all) or more", limit)
	}
	f := audit.Filter{Actor: kurir.UserID(actor), Subject: subject, Action: action, Before: before}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTIME\tACTOR\tROLE\tACTION\tSUBJECT\tDETAIL")
	for shown := 0; limit == 0 || shown < limit; {
		f.Limit = audit.MaxLimit
		if limit > 0 {
			f.Limit = min(limit-shown, audit.MaxLimit)
		}
		es, err := audit.List(ctx, db.Read(), f)
		if err != nil {
			return err
		}
		for _, e := range es {
			who := "system"
			if e.Actor != 0 {
				who = strconv.FormatInt(int64(e.Actor), 10)
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", e.ID, e.At.Format(time.RFC3339), who, orDash(string(e.Role)),
				e.Action, orDash(oneLine(e.Subject)), oneLine(e.Detail))
		}
		shown += len(es)
		if len(es) < f.Limit {
			break
		}
		f.Before = es[len(es)-1].ID
	}
	return tw.Flush()
}

// oneLine quotes s if it holds line breaks, tabs or other control
// characters, so that every entry stays on one line of the listing.
func oneLine(s string) string {
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return strconv.Quote(s)
	}
	return s
}
