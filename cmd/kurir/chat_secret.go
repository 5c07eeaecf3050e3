package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"kurir"
	"kurir/client"
	"kurir/secret/device"
	"kurir/secret/franking"
)

const chatSecretHelp = `Usage: kurir chat secret <command> [flags]

Secret chats: messages encrypted end to end, from this device to every
device of the other person. The server relays them but cannot read them.
This device's keys are made the first time and kept next to the saved
session, readable only by you; they never leave the device.

Commands:
  send           send a secret message: kurir chat secret send @NAME TEXT... [--expire 30s]
  tail           print secret messages as they arrive, until interrupted
  safety-number  the numbers to compare with the other person: kurir chat secret safety-number @NAME
  report         report a secret message you received to the moderators, revealing it:
                 kurir chat secret report ENVELOPE_ID --reason REASON [--comment TEXT]

Run "kurir chat secret <command> --help" for a command's flags. More in
docs/terminal-client.md.
`

func (c *chatCmd) secret(ctx context.Context, args []string) error {
	cmd, rest := "", args
	if len(args) > 0 {
		cmd, rest = args[0], args[1:]
	}
	switch cmd {
	case "send":
		return c.secretSend(ctx, rest)
	case "tail":
		return c.secretTail(ctx, rest)
	case "safety-number":
		return c.secretSafetyNumber(ctx, rest)
	case "report":
		return c.secretReport(ctx, rest)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(c.stdout, chatSecretHelp)
		return nil
	case "":
		fmt.Fprint(c.stderr, chatSecretHelp)
		return usagef("chat secret: name a command: send, tail, safety-number or report")
	default:
		if strings.HasPrefix(cmd, "-") {
			fmt.Fprint(c.stderr, chatSecretHelp)
			return usagef("chat secret: name the command before its flags, as in kurir chat secret tail %s", strings.Join(args, " "))
		}
		fmt.Fprint(c.stderr, chatSecretHelp)
		return usagef("chat secret: unknown command %q", cmd)
	}
}

// secretDevice is this device's secret chats on the server of a session.
type secretDevice struct {
	s  *session
	sc *client.SecretChats
	// dir holds the device's keys ("keys") and the messages it received
	// that may still be reported ("received").
	dir string
}

// openSecret connects the session and finds its device's secret-chat
// state: a directory per server and session beside the session file.
func (c *chatCmd) openSecret(ctx context.Context) (*secretDevice, error) {
	s, err := c.connect()
	if err != nil {
		return nil, err
	}
	if err := s.whoAmI(ctx); err != nil {
		return nil, err
	}
	var sessionID int64
	if s.saved != nil {
		sessionID = s.saved.SessionID
	}
	if sessionID == 0 { // $KURIR_TOKEN, or a session saved before IDs were
		sessions, err := s.c.Sessions(ctx)
		if err != nil {
			return nil, s.explain(err)
		}
		for _, ss := range sessions {
			if ss.Current {
				sessionID = ss.ID
			}
		}
		if sessionID == 0 {
			return nil, errors.New("the server does not say which session this is, so this device's secret-chat keys cannot be found")
		}
	}
	dir := filepath.Join(filepath.Dir(s.store.path), "secret", secretDirName(s.server, sessionID))
	sc := client.NewSecretChats(s.c, device.NewFileStore(filepath.Join(dir, "keys")))
	return &secretDevice{s: s, sc: sc, dir: dir}, nil
}

// secretDirName names a device's directory: the server's host, a short
// hash of its whole URL (two servers on one host stay apart), and the
// session's ID. A new login is a new device with new keys.
func secretDirName(server string, sessionID int64) string {
	host := server
	if u, err := url.Parse(server); err == nil && u.Host != "" {
		host = u.Host
	}
	safe := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			return r
		}
		return '_'
	}, host)
	sum := sha256.Sum256([]byte(server))
	return fmt.Sprintf("%s-%x-session-%d", safe, sum[:4], sessionID)
}

// forgetSecretDevice deletes a logged-out session's secret-chat keys and
// the messages it kept: the server has deleted its keys and waiting
// envelopes, and private keys left behind would only weaken forward
// secrecy.
func forgetSecretDevice(sessionFile, server string, sessionID int64) error {
	if sessionID == 0 {
		return nil
	}
	dir := filepath.Join(filepath.Dir(sessionFile), "secret", secretDirName(server, sessionID))
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("delete this session's secret-chat keys: %w", err)
	}
	return nil
}

// register makes sure the server has the device's keys.
func (d *secretDevice) register(ctx context.Context) error {
	if _, err := d.sc.Register(ctx); err != nil {
		return d.explain(err)
	}
	return nil
}

// explain is session.explain, with the secret-chat errors said plainly.
func (d *secretDevice) explain(err error) error {
	switch {
	case errors.Is(err, client.ErrWrongDevice):
		return fmt.Errorf("the secret-chat keys in %s belong to another session; move them away to start afresh", d.dir)
	case errors.Is(err, device.ErrBadState):
		return fmt.Errorf("the secret-chat keys in %s are damaged (%v); move them away to start afresh (messages waiting for this device are then lost)", d.dir, err)
	}
	var ke *kurir.Error
	if errors.As(err, &ke) && !errors.As(err, new(*client.Error)) {
		return errors.New(ke.Message) // the SDK's own, such as a text that is too long
	}
	return d.s.explain(err)
}

// user looks up @name (or name).
func (d *secretDevice) user(ctx context.Context, name string) (client.PublicUser, error) {
	name = strings.TrimPrefix(strings.TrimSpace(name), "@")
	if name == "" {
		return client.PublicUser{}, usagef("name the person as @username")
	}
	u, err := d.s.c.User(ctx, name)
	if err != nil {
		if client.IsCode(err, kurir.ENotFound) {
			return client.PublicUser{}, fmt.Errorf("no user named @%s on %s", name, d.s.server)
		}
		return client.PublicUser{}, d.s.explain(err)
	}
	d.s.remember(u)
	return u, nil
}

const chatSecretSendHelp = `Usage: kurir chat secret send @NAME [--expire DURATION] [flags] [TEXT...]

Sends a secret message to every device of @NAME that has set up secret
chats. The text is the arguments, or, if there are none, standard input; at
most 4096 characters. --expire sets a self-destruct timer: the message is
deleted that long after the other side first shows it.

  kurir chat secret send @bob 'the door code is 4711' --expire 1m
`

func (c *chatCmd) secretSend(ctx context.Context, args []string) error {
	var expire time.Duration
	e := c.flags("secret send", chatSecretSendHelp)
	e.fs.DurationVar(&expire, "expire", 0, "self-destruct timer, in whole seconds, such as 30s or 1h (default: none)")
	pos, err := c.parse(e, args, -1)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		e.fs.Usage()
		return usagef("chat secret send: name the person: kurir chat secret send @NAME TEXT")
	}
	if expire < 0 || expire%time.Second != 0 || expire > device.MaxExpire {
		return usagef("chat secret send: --expire %v: want a whole number of seconds, such as 30s or 10m", expire)
	}
	to, words := pos[0], pos[1:]
	text := strings.Join(words, " ")
	if len(words) == 0 {
		if _, tty := isTerminal(c.stdin); tty || c.stdin == nil {
			e.fs.Usage()
			return usagef("chat secret send: give the text as arguments or on standard input")
		}
		data, err := io.ReadAll(io.LimitReader(c.stdin, 64<<10))
		if err != nil {
			return fmt.Errorf("read the text from standard input: %w", err)
		}
		text = strings.TrimRight(string(data), "\r\n")
	}
	if strings.TrimSpace(text) == "" {
		return usagef("chat secret send: the message is empty: nothing to send")
	}
	if n := len([]rune(text)); n > client.MaxSecretText {
		return usagef("chat secret send: the message has %d characters; a secret message has at most %d", n, client.MaxSecretText)
	}
	d, err := c.openSecret(ctx)
	if err != nil {
		return err
	}
	u, err := d.user(ctx, to)
	if err != nil {
		return err
	}
	if err := d.register(ctx); err != nil {
		return err
	}
	sent, err := d.sc.Send(ctx, u.ID, text, expire)
	if errors.Is(err, client.ErrNoSecretDevices) {
		return fmt.Errorf("%s has not set up secret chats on any device yet (they do when they first use them, for instance with kurir chat secret tail)", d.s.people().name(u.ID))
	}
	if err != nil {
		return fmt.Errorf("send a secret message to %s: %w", d.s.people().name(u.ID), d.explain(err))
	}
	name := d.s.people().name(u.ID)
	for _, dev := range sent.IdentityChanged {
		fmt.Fprintf(c.stderr, "warning: %s's device %d has new keys since you last wrote; compare safety numbers again: kurir chat secret safety-number @%s\n", name, dev, u.Username)
	}
	devices := "1 device"
	if n := len(sent.Envelopes); n != 1 {
		devices = strconv.Itoa(n) + " devices"
	}
	line := fmt.Sprintf("sent a secret message to %s (%s)", name, devices)
	if expire > 0 {
		line += fmt.Sprintf("; it self-destructs %s after it is read", expire)
	}
	fmt.Fprintln(c.stdout, line)
	return nil
}

const chatSecretTailHelp = `Usage: kurir chat secret tail [flags]

Prints secret messages as they arrive, one a line, until interrupted
(Ctrl-C): first those that waited while this device was away, then new ones
as the server announces them. Each line ends with the message's envelope
ID, which kurir chat secret report takes. --json prints a JSON object a
line instead. A line saying it is waiting goes to standard error once it is
connected.
`

func (c *chatCmd) secretTail(ctx context.Context, args []string) error {
	var asJSON bool
	e := c.flags("secret tail", chatSecretTailHelp)
	e.fs.BoolVar(&asJSON, "json", false, "print JSON lines")
	if _, err := c.parse(e, args, 0); err != nil {
		return err
	}
	d, err := c.openSecret(ctx)
	if err != nil {
		return err
	}
	if err := d.register(ctx); err != nil {
		return err
	}
	live, err := d.s.c.Live(ctx)
	if err != nil {
		return d.s.explain(err)
	}
	defer live.Close()
	t := &secretTailer{d: d, out: c.stdout, errOut: c.stderr, asked: map[int64]bool{}}
	if asJSON {
		t.enc = json.NewEncoder(c.stdout)
	}
	// The stream is connected: whatever arrives from now on is announced,
	// and what came before is fetched here.
	if err := t.receive(ctx); err != nil {
		return err
	}
	fmt.Fprintf(c.stderr, "waiting for secret messages on %s (Ctrl-C to stop)\n", d.s.server)
	// Kept messages with a timer are deleted from the file when they
	// self-destruct, not only when the next message comes.
	t.prune(ctx) // those left from before
	prune := time.NewTimer(time.Hour)
	defer prune.Stop()
	t.schedule(prune)
	events := live.Events()
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				if ctx.Err() != nil {
					return nil // interrupted: the normal end
				}
				return d.s.explain(live.Err())
			}
			switch ev.Nudge {
			case client.NudgeSecret:
				err = t.receive(ctx)
			case client.NudgeSecretKeysLow:
				if err := d.register(ctx); err != nil && ctx.Err() == nil {
					fmt.Fprintf(c.stderr, "could not upload more keys: %v\n", err)
				}
			}
			if err != nil {
				return err
			}
		case <-prune.C:
			t.prune(ctx)
		}
		t.schedule(prune)
	}
}

// secretTailer prints the secret messages "kurir chat secret tail" receives.
type secretTailer struct {
	d           *secretDevice
	out, errOut io.Writer
	enc         *json.Encoder // for --json
	asked       map[int64]bool
	dialogs     []client.Dialog // loaded once, to name senders
	// expires is when the next kept message self-destructs (zero: none).
	expires time.Time
}

// prune deletes the kept messages that have self-destructed.
func (t *secretTailer) prune(ctx context.Context) {
	live, err := loadReceived(ctx, t.d.dir, time.Now())
	if err != nil {
		if ctx.Err() == nil {
			fmt.Fprintf(t.errOut, "could not delete self-destructed secret messages: %v\n", err)
		}
		t.expires = time.Now().Add(time.Minute) // try again
		return
	}
	t.expires = nextExpiry(live)
}

// schedule sets the timer to fire when the next kept message
// self-destructs, or in an hour.
func (t *secretTailer) schedule(timer *time.Timer) {
	wait := time.Hour
	if !t.expires.IsZero() {
		wait = min(wait, max(time.Until(t.expires), 0)+10*time.Millisecond)
	}
	timer.Reset(wait)
}

// receive fetches and prints what waits, keeping each message for
// reporting. Only a failure to keep or print a message ends the tail; one
// to reach the server is said and waited out (the next nudge tries again).
func (t *secretTailer) receive(ctx context.Context) error {
	for {
		got, err := t.d.sc.Receive(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ce *client.Error
			if errors.As(err, &ce) && ce.Code == kurir.EUnauthenticated {
				return t.d.explain(err)
			}
			fmt.Fprintf(t.errOut, "could not fetch secret messages: %v\n", t.d.explain(err))
			return nil
		}
		// The messages are no longer on the server nor in the device's
		// state: they are printed even if keeping them for reporting fails.
		var keepErr error
		if len(got.Messages) > 0 {
			var next time.Time
			next, keepErr = keepReceived(ctx, t.d.dir, got.Messages, time.Now())
			if keepErr == nil {
				t.expires = next
			}
		}
		for _, m := range got.Messages {
			if err := t.print(ctx, m); err != nil {
				return err
			}
		}
		for _, dr := range got.Dropped {
			fmt.Fprintf(t.errOut, "dropped a secret message from %s (device %d) that could not be read: %v\n", t.name(ctx, dr.Sender), dr.SenderDevice, dr.Err)
		}
		if keepErr != nil {
			return keepErr
		}
		if !got.More {
			return nil
		}
	}
}

func (t *secretTailer) print(ctx context.Context, m client.SecretMessage) error {
	if t.enc != nil {
		return t.enc.Encode(struct {
			ID              string    `json:"id"`
			Sender          int64     `json:"sender"`
			SenderDevice    int64     `json:"sender_device"`
			Text            string    `json:"text"`
			SentAt          time.Time `json:"sent_at"`
			At              time.Time `json:"at"`
			ExpireSeconds   int64     `json:"expire_seconds,omitempty"`
			IdentityChanged bool      `json:"identity_changed,omitempty"`
		}{m.ID, m.Sender, m.SenderDevice, m.Text, m.SentAt, m.At, int64(m.Expire / time.Second), m.IdentityChanged})
	}
	name := t.name(ctx, m.Sender)
	if m.IdentityChanged {
		fmt.Fprintf(t.out, "! %s's device %d has new keys: compare safety numbers again\n", name, m.SenderDevice)
	}
	line := fmt.Sprintf("%s [secret] %s: %s (id %s", m.At.Local().Format(time.DateTime), name, displayText(m.Text, " ⏎ "), m.ID)
	if m.Expire > 0 {
		line += fmt.Sprintf("; self-destructs in %s", m.Expire)
	}
	_, err := fmt.Fprintln(t.out, line+")")
	return err
}

// name is how a sender is shown. Secret messages come with a user ID only:
// the name is the one this device saved, or the one a private chat with
// them shows.
func (t *secretTailer) name(ctx context.Context, user int64) string {
	p := t.d.s.people()
	if !p.unknown(user) || t.asked[user] {
		return p.name(user)
	}
	t.asked[user] = true
	if t.dialogs == nil {
		t.dialogs = []client.Dialog{}
		for dl, err := range t.d.s.c.AllDialogs(ctx, 100) {
			if err != nil {
				break
			}
			t.dialogs = append(t.dialogs, dl)
		}
	}
	for _, dl := range t.dialogs {
		if dl.Chat.Kind == client.Private && dl.Chat.PeerID == user {
			t.d.s.learnNames(ctx, nameRef{dl.Chat.ID, user})
		}
	}
	return t.d.s.people().name(user)
}

const chatSecretSafetyHelp = `Usage: kurir chat secret safety-number @NAME [flags]

Prints the safety number of this device with each device of @NAME. Compare
it with the number their device shows for you (read it out, or side by
side): if they are the same, no one is in the middle of your secret chat.
`

func (c *chatCmd) secretSafetyNumber(ctx context.Context, args []string) error {
	e := c.flags("secret safety-number", chatSecretSafetyHelp)
	pos, err := c.parse(e, args, 1)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		e.fs.Usage()
		return usagef("chat secret safety-number: name the person: kurir chat secret safety-number @NAME")
	}
	d, err := c.openSecret(ctx)
	if err != nil {
		return err
	}
	u, err := d.user(ctx, pos[0])
	if err != nil {
		return err
	}
	if err := d.register(ctx); err != nil {
		return err
	}
	numbers, err := d.sc.SafetyNumber(ctx, u.ID)
	if errors.Is(err, client.ErrNoSecretDevices) {
		return fmt.Errorf("%s has not set up secret chats on any device yet", d.s.people().name(u.ID))
	}
	if err != nil {
		return d.explain(err)
	}
	fmt.Fprintf(c.stdout, "Safety numbers with %s, one for each of their devices; each should match what that device shows for you:\n", d.s.people().name(u.ID))
	for _, n := range numbers {
		note := ""
		if !n.Session {
			note = "  (no secret chat with this device yet)"
		}
		fmt.Fprintf(c.stdout, "device %d: %s%s\n", n.DeviceID, n.Number, note)
	}
	return nil
}

const chatSecretReportHelp = `Usage: kurir chat secret report ENVELOPE_ID --reason REASON [--comment TEXT] [flags]

Reports a secret message this device received to the moderators. Reporting
reveals the message's text to them, with a proof (message franking) that
the sender really sent it; no one can report text that was not sent.
ENVELOPE_ID ends the message's line in kurir chat secret tail. Messages are
kept for reporting on this device only (the last 1000, and a message with a
timer only until it self-destructs). kurir chat report --reasons lists the
reasons.

  kurir chat secret report 2VQ5KD3JX4Y7 --reason harassment --comment "keeps writing at night"
`

func (c *chatCmd) secretReport(ctx context.Context, args []string) error {
	var reason, comment string
	e := c.flags("secret report", chatSecretReportHelp)
	e.fs.StringVar(&reason, "reason", "", "why: one of the reasons kurir chat report --reasons lists")
	e.fs.StringVar(&comment, "comment", "", "anything the moderators should know")
	pos, err := c.parse(e, args, 1)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		e.fs.Usage()
		return usagef("chat secret report: give the message's envelope ID, as kurir chat secret tail shows it")
	}
	if strings.TrimSpace(reason) == "" {
		e.fs.Usage()
		return usagef("chat secret report: --reason is required (kurir chat report --reasons lists them)")
	}
	d, err := c.openSecret(ctx)
	if err != nil {
		return err
	}
	kept, err := loadReceived(ctx, d.dir, time.Now())
	if err != nil {
		return err
	}
	i := slices.IndexFunc(kept, func(k keptMessage) bool { return k.ID == pos[0] })
	if i < 0 {
		return fmt.Errorf("no secret message with the ID %s is kept on this device: it was received elsewhere, self-destructed, or is too old", pos[0])
	}
	m := kept[i]
	rep, err := d.s.c.ReportSecret(ctx, m.Proof, strings.TrimSpace(reason), comment)
	if err != nil {
		return fmt.Errorf("report the secret message %s: %w", m.ID, d.s.explain(err))
	}
	fmt.Fprintf(c.stdout, "reported the secret message from %s (report %d, case %d); you can follow it in the web app under Settings\n", d.s.people().name(m.Sender), rep.ID, rep.CaseID)
	return nil
}

// The received messages a device keeps for reporting, in the file
// "received" of its directory: a JSON list, newest last, written like the
// keys (atomically, 0600, under a lock).
const maxKept = 1000

// keptMessage is a received secret message kept for reporting.
type keptMessage struct {
	ID           string          `json:"id"`
	Sender       int64           `json:"sender"`
	SenderDevice int64           `json:"sender_device"`
	ShownAt      time.Time       `json:"shown_at"`
	ExpireSecs   int64           `json:"expire_seconds,omitempty"`
	Proof        franking.Report `json:"proof"`
}

// expired reports whether the message has self-destructed at now.
func (k keptMessage) expired(now time.Time) bool {
	return k.ExpireSecs > 0 && !now.Before(k.ShownAt.Add(time.Duration(k.ExpireSecs)*time.Second))
}

func receivedStore(dir string) *device.FileStore {
	return device.NewFileStore(filepath.Join(dir, "received"))
}

// keepReceived adds messages shown at now to the device's kept messages,
// dropping those that have self-destructed and all but the newest maxKept.
// It returns when the next kept message self-destructs (zero if none
// will).
func keepReceived(ctx context.Context, dir string, msgs []client.SecretMessage, now time.Time) (time.Time, error) {
	st := receivedStore(dir)
	data, err := st.Lock(ctx)
	if err != nil {
		return time.Time{}, fmt.Errorf("keep received secret messages: %w", err)
	}
	defer st.Unlock()
	kept, err := decodeKept(data, dir)
	if err != nil {
		return time.Time{}, err
	}
	for _, m := range msgs {
		kept = append(kept, keptMessage{ID: m.ID, Sender: m.Sender, SenderDevice: m.SenderDevice, ShownAt: now.UTC(), ExpireSecs: int64(m.Expire / time.Second), Proof: m.Proof})
	}
	kept = slices.DeleteFunc(kept, func(k keptMessage) bool { return k.expired(now) })
	if over := len(kept) - maxKept; over > 0 {
		kept = kept[over:]
	}
	out, err := json.Marshal(kept)
	if err != nil {
		return time.Time{}, fmt.Errorf("keep received secret messages: %w", err)
	}
	if err := st.Save(out); err != nil {
		return time.Time{}, fmt.Errorf("keep received secret messages: %w", err)
	}
	return nextExpiry(kept), nil
}

// nextExpiry returns when the first of the kept messages with a timer
// self-destructs, or the zero time if none has one.
func nextExpiry(kept []keptMessage) time.Time {
	var next time.Time
	for _, k := range kept {
		if k.ExpireSecs <= 0 {
			continue
		}
		at := k.ShownAt.Add(time.Duration(k.ExpireSecs) * time.Second)
		if next.IsZero() || at.Before(next) {
			next = at
		}
	}
	return next
}

// loadReceived returns the device's kept messages that have not
// self-destructed at now, deleting those that have from the file.
func loadReceived(ctx context.Context, dir string, now time.Time) ([]keptMessage, error) {
	st := receivedStore(dir)
	data, err := st.Lock(ctx)
	if err != nil {
		return nil, fmt.Errorf("read received secret messages: %w", err)
	}
	defer st.Unlock()
	kept, err := decodeKept(data, dir)
	if err != nil {
		return nil, err
	}
	live := slices.DeleteFunc(slices.Clone(kept), func(k keptMessage) bool { return k.expired(now) })
	if len(live) != len(kept) {
		out, err := json.Marshal(live)
		if err == nil {
			err = st.Save(out)
		}
		if err != nil {
			return nil, fmt.Errorf("delete self-destructed secret messages: %w", err)
		}
	}
	return live, nil
}

func decodeKept(data []byte, dir string) ([]keptMessage, error) {
	var kept []keptMessage
	if len(data) == 0 {
		return kept, nil
	}
	if err := json.Unmarshal(data, &kept); err != nil {
		return nil, fmt.Errorf("the received secret messages in %s are damaged (%v); move the file away to start afresh", filepath.Join(dir, "received"), err)
	}
	return kept, nil
}
