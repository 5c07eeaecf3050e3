package main

import (
	"context"
	"fmt"
	"time"

	"kurir/blob"
	"kurir/media"
)

const adminMediaHelp = `Usage: kurir admin media <command> [flags] [arguments]

Takes content down by hash, everywhere at once, beside a running server.

  media remove SHA256 --reason TEXT
                                 every photo, video or file whose content (or
                                 whose bytes as uploaded) has this SHA-256
                                 becomes unavailable in every chat, and the
                                 same bytes are refused at upload; the reason
                                 is shown to people who ask for the file
  media restore SHA256           reverse a removal
`

func (a *adminCmd) media(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(a.stdout, adminMediaHelp)
		if len(args) == 0 {
			return usagef("admin media: name a command, e.g. kurir admin media remove")
		}
		return nil
	}
	cmd, rest := args[0], args[1:]
	if cmd != "remove" && cmd != "restore" {
		fmt.Fprint(a.stderr, adminMediaHelp)
		return usagef("admin media: unknown command %q", cmd)
	}
	var reason string
	db, _, rest, err := a.open(ctx, "admin media "+cmd, adminMediaHelp, rest, 1, func(e envFlags) {
		if cmd == "remove" {
			e.fs.StringVar(&reason, "reason", "", "why it is removed, shown to people who ask for the file")
		}
	})
	if err != nil {
		return err
	}
	defer db.Close()
	h, err := blob.ParseHash(rest[0])
	if err != nil {
		return usagef("admin media %s: %v", cmd, err)
	}
	if cmd == "restore" {
		if err := media.Restore(ctx, db, h); err != nil {
			return err
		}
		if err := a.audit(ctx, "admin.media_restore", "sha256:"+h.String(), ""); err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "content %s restored\n", h)
		return nil
	}
	n, err := media.Remove(ctx, db, time.Now(), h, reason)
	if err != nil {
		return err
	}
	if err := a.audit(ctx, "admin.media_remove", "sha256:"+h.String(), fmt.Sprintf("%d file(s): %s", n, reason)); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "content %s removed: %d file(s) unavailable everywhere\n", h, n)
	return nil
}
