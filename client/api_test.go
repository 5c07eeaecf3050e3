package client_test

import (
	"bytes"
	"image"
	"image/png"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"kurir"
	"kurir/client"
	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

// TestAPI drives every operation of the API through the SDK on one server,
// whose OpenAPI document checks each request the SDK makes, and then
// requires that no documented operation went uncalled: a route added to
// the server without an SDK method fails here.
func TestAPI(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		s := newServer(t, db, options{})
		t.Run("accounts", func(t *testing.T) { testAccounts(t, s) })
		t.Run("totp", func(t *testing.T) { testTOTP(t, s) })
		t.Run("groups", func(t *testing.T) { testGroups(t, s) })
		t.Run("channels", func(t *testing.T) { testChannels(t, s) })
		t.Run("private", func(t *testing.T) { testPrivate(t, s) })
		t.Run("sync", func(t *testing.T) { testSync(t, s) })
		t.Run("dialogs", func(t *testing.T) { testDialogs(t, s) })
		t.Run("search", func(t *testing.T) { testSearch(t, s) })
		t.Run("media", func(t *testing.T) { testMedia(t, s) })
		t.Run("moderation", func(t *testing.T) { testModeration(t, s) })
		t.Run("notice cases", func(t *testing.T) { testNoticeCases(t, s) })
		t.Run("bulk", func(t *testing.T) { testBulk(t, s) })
		t.Run("appeal queue", func(t *testing.T) { testAppealQueue(t, s) })
		t.Run("jurisdictions", func(t *testing.T) { testJurisdictions(t, s) })
		t.Run("legal", func(t *testing.T) { testLegal(t, s) })
		t.Run("secret", func(t *testing.T) { testSecret(t, s) })
		if t.Failed() {
			return
		}
		// The live stream is a WebSocket, not a request and response: it
		// gets its own type in the SDK and its own tests.
		if missing := s.uncalled("live"); len(missing) > 0 {
			t.Errorf("operations no SDK call reached:\n%s", strings.Join(missing, "\n"))
		}
	}, schema...)
}

func testAccounts(t *testing.T, s *server) {
	ctx := t.Context()
	c := s.client(t)
	// Before anyone logs in, the server's limits (its defaults here).
	cfg := must(c.Config(ctx))(t, "config")
	if cfg != (client.ServerConfig{MaxTextChars: 4096, MaxCaptionChars: 4096, MaxUploadBytes: 2 << 30, UploadQuotaBytes: 20 << 30, EditWindowSeconds: 48 * 3600}) ||
		cfg.EditWindow() != 48*time.Hour {
		t.Fatalf("config: got %+v", cfg)
	}
	u := must(c.Register(ctx, client.RegisterParams{Username: "alice", Password: password, DisplayName: "Alice", Email: "alice@example.com"}))(t, "register")
	if u.ID <= 0 || u.Username != "alice" || u.DisplayName != "Alice" || u.Email != "alice@example.com" ||
		u.Role != kurir.RoleUser || u.State != "active" || !u.DeletionScheduledAt.IsZero() || !u.CreatedAt.Equal(s.clock.Now()) {
		t.Fatalf("register: got %+v", u)
	}

	res := must(c.Login(ctx, client.LoginParams{Username: "alice", Password: password, DeviceName: "laptop"}))(t, "login on laptop")
	if res.Token == "" || res.User != u || res.Session.DeviceName != "laptop" || !res.Session.Current ||
		res.Session.UserAgent != client.DefaultUserAgent || res.Session.IP != "127.0.0.1" {
		t.Fatalf("login: got %+v", res)
	}
	if c.Token() != "" {
		t.Fatalf("Login stored token %q in the client it was called on; only WithToken derives a client", c.Token())
	}
	laptop := c.WithToken(res.Token)
	if laptop.Token() != res.Token {
		t.Fatalf("WithToken: Token() = %q, want %q", laptop.Token(), res.Token)
	}
	if me := must(laptop.Me(ctx))(t, "me"); me != u {
		t.Fatalf("me: got %+v, want %+v", me, u)
	}

	phoneRes := must(s.client(t, client.WithUserAgent("kurir-phone/2")).
		Login(ctx, client.LoginParams{Username: "ALICE", Password: password, DeviceName: "phone"}))(t, "login on phone")
	phone := s.client(t, client.WithToken(phoneRes.Token))
	sessions := must(laptop.Sessions(ctx))(t, "sessions")
	slices.SortFunc(sessions, func(a, b client.Session) int { return int(a.ID - b.ID) })
	if len(sessions) != 2 ||
		sessions[0].ID != res.Session.ID || !sessions[0].Current ||
		sessions[1].ID != phoneRes.Session.ID || sessions[1].Current || sessions[1].UserAgent != "kurir-phone/2" {
		t.Fatalf("sessions as seen from the laptop: got %+v", sessions)
	}

	upd := must(laptop.UpdateMe(ctx, client.ProfileUpdate{DisplayName: new("Alice A."), Email: new(""), Phone: new("+6281234567890")}))(t, "update me")
	if upd.DisplayName != "Alice A." || upd.Email != "" || upd.Phone != "+6281234567890" {
		t.Fatalf("update me: got %+v", upd)
	}
	if pub := must(phone.User(ctx, "Alice"))(t, "user"); pub != (client.PublicUser{ID: u.ID, Username: "alice", DisplayName: "Alice A."}) {
		t.Fatalf("user: got %+v", pub)
	}

	ok(t, "revoke the phone", laptop.RevokeSession(ctx, phoneRes.Session.ID))
	_, err := phone.Me(ctx)
	wantCode(t, "me on the revoked phone", err, "unauthenticated")

	const newPassword = "copper-falcon-harbor-42"
	ok(t, "change password", laptop.ChangePassword(ctx, password, newPassword))
	_, err = c.Login(ctx, client.LoginParams{Username: "alice", Password: password})
	wantCode(t, "login with the old password", err, "unauthenticated")
	must(laptop.Me(ctx))(t, "me on the laptop after changing the password there")

	at := must(laptop.RequestDeletion(ctx, newPassword))(t, "request deletion")
	if !at.After(s.clock.Now()) {
		t.Fatalf("request deletion: scheduled at %v, want after now (%v)", at, s.clock.Now())
	}
	_, err = laptop.Me(ctx)
	wantCode(t, "me after requesting deletion", err, "unauthenticated")

	again := must(c.Login(ctx, client.LoginParams{Username: "alice", Password: newPassword}))(t, "login cancelling the deletion")
	if !again.User.DeletionScheduledAt.IsZero() {
		t.Fatalf("login after requesting deletion: deletion still scheduled at %v", again.User.DeletionScheduledAt)
	}
	last := c.WithToken(again.Token)
	ok(t, "logout", last.Logout(ctx))
	_, err = last.Me(ctx)
	wantCode(t, "me after logout", err, "unauthenticated")
}

func testGroups(t *testing.T, s *server) {
	ctx := t.Context()
	anna, annaU := s.user(t, "anna")
	bert, bertU := s.user(t, "bert")
	cleo, cleoU := s.user(t, "cleo")

	g := must(anna.CreateGroup(ctx, client.NewChat{Title: "Climbers", About: "Rocks", Members: []int64{bertU.ID}}))(t, "create group")
	if g.ID <= 0 || g.Kind != client.Group || g.Title != "Climbers" || g.About != "Rocks" || g.MemberCount != 2 ||
		g.Role != client.Owner || g.Permissions != (client.Permissions{Post: true, AddUsers: true}) || g.Large {
		t.Fatalf("create group: got %+v", g)
	}

	// Characters JSON encoders like to escape must arrive as typed.
	m1 := must(anna.Send(ctx, g.ID, client.SendParams{Text: "hello <b>&</b> \u2028 ok"}))(t, "send")
	if m1.ChatID != g.ID || m1.Seq <= 0 || m1.SenderID != annaU.ID || m1.Text != "hello <b>&</b> \u2028 ok" ||
		!m1.CreatedAt.Equal(s.clock.Now()) || !m1.EditedAt.IsZero() || m1.Deleted || m1.Forward != nil {
		t.Fatalf("send: got %+v", m1)
	}
	members := must(bert.Members(ctx, g.ID, 0, 1))(t, "members")
	if len(members) != 1 || members[0].UserID != annaU.ID || members[0].Username != "anna" || members[0].Role != client.Owner {
		t.Fatalf("first page of members: %+v, want anna, the owner", members)
	}
	if rest := must(bert.Members(ctx, g.ID, members[0].UserID, 10))(t, "members after"); len(rest) != 1 || rest[0].UserID != bertU.ID {
		t.Fatalf("second page of members: %+v, want bert", rest)
	}
	m2 := must(bert.Send(ctx, g.ID, client.SendParams{Text: "hi", ReplyTo: m1.Seq}))(t, "reply")
	if m2.ReplyTo != m1.Seq || m2.Seq <= m1.Seq {
		t.Fatalf("reply: got %+v after %+v", m2, m1)
	}

	seqs := func(ms []client.Message) []int64 {
		var out []int64
		for _, m := range ms {
			out = append(out, m.Seq)
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		from  client.Anchor
		limit int
		want  []int64
	}{
		{"newest", client.Anchor{}, 0, []int64{m2.Seq, m1.Seq}},
		{"before 0 is newest", client.Before(0), 10, []int64{m2.Seq, m1.Seq}},
		{"before", client.Before(m2.Seq), 10, []int64{m1.Seq}},
		{"after 0 is oldest", client.After(0), 10, []int64{m1.Seq, m2.Seq}},
		{"after", client.After(m1.Seq), 10, []int64{m2.Seq}},
		{"limit", client.After(0), 1, []int64{m1.Seq}},
	} {
		t.Run("history/"+tc.name, func(t *testing.T) {
			got := seqs(must(bert.History(ctx, g.ID, tc.from, tc.limit))(t, "history"))
			if !slices.Equal(got, tc.want) {
				t.Errorf("got seqs %v, want %v", got, tc.want)
			}
		})
	}
	_, err := cleo.History(ctx, g.ID, client.Anchor{}, 0)
	wantCode(t, "history of a group cleo is not in", err, "not_found")

	edited := must(anna.EditMessage(ctx, g.ID, m1.Seq, "hello, edited"))(t, "edit")
	if edited.Text != "hello, edited" || edited.EditedAt.IsZero() || edited.Seq != m1.Seq {
		t.Fatalf("edit: got %+v", edited)
	}
	ok(t, "pin", anna.Pin(ctx, g.ID, m1.Seq))
	ok(t, "mark read", bert.MarkRead(ctx, g.ID, m2.Seq))
	if c := must(bert.Chat(ctx, g.ID))(t, "chat"); c.PinnedSeq != m1.Seq || c.ReadSeq != m2.Seq || c.Role != client.Member {
		t.Fatalf("chat after pin and read: got %+v", c)
	}
	ok(t, "unpin", anna.Pin(ctx, g.ID, 0))

	ok(t, "add cleo", anna.AddMembers(ctx, g.ID, cleoU.ID))
	if c := must(cleo.Chat(ctx, g.ID))(t, "chat as cleo"); c.MemberCount != 3 || c.Role != client.Member {
		t.Fatalf("chat after adding cleo: got %+v", c)
	}
	ok(t, "make bert admin", anna.SetMemberRole(ctx, g.ID, bertU.ID, client.Admin))
	if c := must(bert.Chat(ctx, g.ID))(t, "chat as bert"); c.Role != client.Admin {
		t.Fatalf("bert's role: got %q, want admin", c.Role)
	}

	fwd := must(cleo.Send(ctx, g.ID, client.SendParams{ForwardFrom: &client.MessageRef{ChatID: g.ID, Seq: m2.Seq}}))(t, "forward")
	if fwd.Forward == nil || fwd.Forward.SenderID != bertU.ID || fwd.Forward.Seq != m2.Seq || fwd.Text != "hi" {
		t.Fatalf("forward: got %+v", fwd)
	}

	ok(t, "delete for me", bert.DeleteMessage(ctx, g.ID, m2.Seq, true))
	if got := seqs(must(bert.History(ctx, g.ID, client.After(0), 0))(t, "bert's history")); slices.Contains(got, m2.Seq) {
		t.Fatalf("bert's history after deleting %d for himself: %v", m2.Seq, got)
	}
	ok(t, "delete for everyone", anna.DeleteMessage(ctx, g.ID, m1.Seq, false))
	hist := must(cleo.History(ctx, g.ID, client.After(0), 0))(t, "cleo's history")
	if got := seqs(hist); !slices.Equal(got, []int64{m2.Seq, fwd.Seq}) {
		t.Fatalf("cleo's history after the deletions: seqs %v, want %v (m1 deleted for everyone)", got, []int64{m2.Seq, fwd.Seq})
	}

	inv := must(anna.CreateInvite(ctx, g.ID, client.InviteParams{UsageLimit: 5}))(t, "create invite")
	if inv.Code == "" || inv.ChatID != g.ID || inv.UsageLimit != 5 || !inv.ExpiresAt.IsZero() {
		t.Fatalf("create invite: got %+v", inv)
	}
	expiring := must(anna.CreateInvite(ctx, g.ID, client.InviteParams{ExpiresAt: s.clock.Now().Add(time.Hour)}))(t, "create expiring invite")
	if !expiring.ExpiresAt.Equal(s.clock.Now().Add(time.Hour)) || expiring.UsageLimit != 0 {
		t.Fatalf("create expiring invite: got %+v", expiring)
	}
	dora, _ := s.user(t, "dora")
	if c := must(dora.JoinByInvite(ctx, inv.Code))(t, "join by invite"); c.ID != g.ID || c.Role != client.Member {
		t.Fatalf("join by invite: got %+v", c)
	}
	ok(t, "revoke invite", anna.RevokeInvite(ctx, inv.Code))
	emil, _ := s.user(t, "emil")
	if _, err := emil.JoinByInvite(ctx, inv.Code); err == nil {
		t.Fatal("joined by a revoked invite")
	}

	ok(t, "ban cleo", anna.RemoveMember(ctx, g.ID, cleoU.ID, true))
	if _, err := cleo.Send(ctx, g.ID, client.SendParams{Text: "still here?"}); err == nil {
		t.Fatal("a removed member could send")
	}
	ok(t, "bert leaves", bert.Leave(ctx, g.ID))
	if c := must(anna.Chat(ctx, g.ID))(t, "chat after the removals"); c.MemberCount != 2 {
		t.Fatalf("members after banning cleo and bert leaving: %d, want 2 (anna, dora)", c.MemberCount)
	}
}

func testChannels(t *testing.T, s *server) {
	ctx := t.Context()
	fern, _ := s.user(t, "fern")
	gabe, gabeU := s.user(t, "gabe")
	ch := must(fern.CreateChannel(ctx, client.NewChat{Title: "News", Username: "fern_news"}))(t, "create channel")
	if ch.Kind != client.Channel || ch.Username != "fern_news" || ch.Role != client.Owner || ch.Permissions != (client.Permissions{}) {
		t.Fatalf("create channel: got %+v", ch)
	}
	found := must(gabe.ChatByUsername(ctx, "FERN_news"))(t, "chat by username")
	if found.ID != ch.ID || found.Role != "" {
		t.Fatalf("chat by username: got %+v", found)
	}
	if c := must(gabe.Join(ctx, ch.ID))(t, "join"); c.Role != client.Member || c.MemberCount != 2 {
		t.Fatalf("join: got %+v", c)
	}
	_, err := gabe.Send(ctx, ch.ID, client.SendParams{Text: "me too"})
	wantCode(t, "subscriber posting to a channel", err, "forbidden")

	post := must(fern.Send(ctx, ch.ID, client.SendParams{Text: "first post"}))(t, "post")
	if n := must(gabe.RecordViews(ctx, ch.ID, []int64{post.Seq, post.Seq}))(t, "views"); n != 1 {
		t.Fatalf("views: counted %d, want 1", n)
	}
	if n := must(gabe.RecordViews(ctx, ch.ID, []int64{post.Seq}))(t, "views again"); n != 0 {
		t.Fatalf("views again: counted %d, want 0", n)
	}
	if h := must(fern.History(ctx, ch.ID, client.Anchor{}, 0))(t, "history with views"); len(h) == 0 || h[0].Views != 1 {
		t.Fatalf("history after one view: got %+v", h)
	}

	edited := must(fern.EditChat(ctx, ch.ID, client.ChatEdit{Title: new("World news"), Permissions: &client.Permissions{Pin: true}}))(t, "edit chat")
	if edited.Title != "World news" || edited.About != "" || edited.Permissions != (client.Permissions{Pin: true}) {
		t.Fatalf("edit chat: got %+v", edited)
	}
	ok(t, "remove gabe", fern.RemoveMember(ctx, ch.ID, gabeU.ID, false))
	if _, err := gabe.Join(ctx, ch.ID); err != nil {
		t.Fatalf("rejoining after being removed without a ban: %v", err)
	}
}

func testPrivate(t *testing.T, s *server) {
	ctx := t.Context()
	hana, hanaU := s.user(t, "hana")
	ivan, ivanU := s.user(t, "ivan")
	p := must(hana.OpenPrivateChat(ctx, ivanU.ID))(t, "open private chat")
	if p.Kind != client.Private || p.PeerID != ivanU.ID {
		t.Fatalf("open private chat: got %+v", p)
	}
	if again := must(hana.OpenPrivateChat(ctx, ivanU.ID))(t, "open it again"); again.ID != p.ID {
		t.Fatalf("opening the private chat again gave chat %d, want %d", again.ID, p.ID)
	}
	must(hana.Send(ctx, p.ID, client.SendParams{Text: "psst"}))(t, "send in private")
	ok(t, "block", ivan.Block(ctx, hanaU.ID))
	if bl := must(ivan.Blocked(ctx, 0, 0))(t, "list blocked"); len(bl) != 1 || bl[0].UserID != hanaU.ID || bl[0].Username != "hana" || bl[0].BlockedAt.IsZero() {
		t.Fatalf("ivan's blocked list = %+v, want hana", bl)
	}
	if bl := must(hana.Blocked(ctx, 0, 0))(t, "list blocked as hana"); len(bl) != 0 {
		t.Fatalf("hana's blocked list = %+v, want nobody: being blocked is not blocking", bl)
	}
	_, err := hana.Send(ctx, p.ID, client.SendParams{Text: "hello?"})
	wantCode(t, "send to someone who blocked you", err, "forbidden")
	ok(t, "unblock", ivan.Unblock(ctx, hanaU.ID))
	if bl := must(ivan.Blocked(ctx, 0, 0))(t, "list blocked after unblock"); len(bl) != 0 {
		t.Fatalf("ivan's blocked list after unblocking = %+v, want nobody", bl)
	}
	must(hana.Send(ctx, p.ID, client.SendParams{Text: "hello!"}))(t, "send after unblock")
	if c := must(ivan.Chat(ctx, p.ID))(t, "private chat as ivan"); c.PeerID != hanaU.ID {
		t.Fatalf("private chat as ivan: got %+v", c)
	}
}

func testSync(t *testing.T, s *server) {
	ctx := t.Context()
	jade, _ := s.user(t, "jade")
	kurt, kurtU := s.user(t, "kurt")

	st := must(kurt.SyncState(ctx))(t, "sync state")
	if len(st.LargeChats) != 0 {
		t.Fatalf("sync state of a new user: %+v", st)
	}
	g := must(jade.CreateGroup(ctx, client.NewChat{Title: "Pair", Members: []int64{kurtU.ID}}))(t, "create group")
	var sent []client.Message
	for _, text := range []string{"one", "two", "three"} {
		sent = append(sent, must(jade.Send(ctx, g.ID, client.SendParams{Text: text}))(t, "send "+text))
	}

	// Walk kurt's update log two at a time and collect the messages.
	var texts []string
	pts := st.PTS
	for range 10 {
		u := must(kurt.Updates(ctx, pts, 2))(t, "updates")
		if u.TooLong || len(u.Updates) > 2 {
			t.Fatalf("updates after %d: %+v", pts, u)
		}
		for _, up := range u.Updates {
			if up.PTS <= pts || up.Event.ChatID != g.ID {
				t.Fatalf("update out of order or of another chat after pts %d: %+v", pts, up)
			}
			pts = up.PTS
			if up.Event.Kind == client.EventMessage {
				texts = append(texts, up.Event.Message.Text)
			}
		}
		if len(u.Updates) == 0 {
			break
		}
		pts = u.PTS
	}
	if !slices.Equal(texts, []string{"one", "two", "three"}) {
		t.Fatalf("messages in kurt's update log: %q", texts)
	}
	if now := must(kurt.SyncState(ctx))(t, "sync state after"); now.PTS != pts {
		t.Fatalf("sync state: pts %d, want %d as the update log ended", now.PTS, pts)
	}

	ch := must(jade.CreateChannel(ctx, client.NewChat{Title: "Broadcast"}))(t, "create channel")
	inv := must(jade.CreateInvite(ctx, ch.ID, client.InviteParams{}))(t, "invite")
	must(kurt.JoinByInvite(ctx, inv.Code))(t, "join channel")
	from := must(kurt.Chat(ctx, ch.ID))(t, "channel").Seq
	post := must(jade.Send(ctx, ch.ID, client.SendParams{Text: "news"}))(t, "post")
	st = must(kurt.SyncState(ctx))(t, "sync state with a channel")
	if !slices.Contains(st.LargeChats, client.LargeChat{ChatID: ch.ID, Seq: post.Seq}) {
		t.Fatalf("sync state: large chats %+v, want channel %d at %d", st.LargeChats, ch.ID, post.Seq)
	}
	cu := must(kurt.ChatUpdates(ctx, ch.ID, from, 0))(t, "chat updates")
	if cu.TooLong || cu.Seq != post.Seq || len(cu.Events) != 1 || cu.Events[0].Kind != client.EventMessage ||
		cu.Events[0].Message == nil || *cu.Events[0].Message != post {
		t.Fatalf("chat updates after %d: %+v, want the post %+v", from, cu, post)
	}
	_, err := kurt.ChatUpdates(ctx, ch.ID, post.Seq+100, 0)
	wantCode(t, "chat updates beyond the end", err, "invalid")
	if e := apiError(t, "chat updates", err); e.Field != "seq" {
		t.Errorf("chat updates beyond the end: field %q, want seq", e.Field)
	}
}

func testDialogs(t *testing.T, s *server) {
	ctx := t.Context()
	lena, _ := s.user(t, "lena")
	var want []int64
	for i := range 7 {
		g := must(lena.CreateGroup(ctx, client.NewChat{Title: "Group " + string(rune('A'+i))}))(t, "create group")
		want = append(want, g.ID)
	}
	// The server's clock stands still, so activity ties and the newest chat
	// (the highest ID) comes first.
	slices.Reverse(want)

	page := must(lena.Dialogs(ctx, "", 3))(t, "first page")
	if len(page.Dialogs) != 3 || page.NextCursor == "" {
		t.Fatalf("first page of 3: got %d dialogs, next cursor %q", len(page.Dialogs), page.NextCursor)
	}

	const listDialogs = "GET /api/v1/dialogs"
	before := s.calls(listDialogs)
	var got []int64
	for d, err := range lena.AllDialogs(ctx, 3) {
		ok(t, "all dialogs", err)
		got = append(got, d.Chat.ID)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("all dialogs: got chats %v, want %v", got, want)
	}
	if n := s.calls(listDialogs) - before; n != 3 {
		t.Errorf("walking 7 dialogs 3 at a time took %d requests, want 3", n)
	}

	before = s.calls(listDialogs)
	n := 0
	for _, err := range lena.AllDialogs(ctx, 3) {
		ok(t, "all dialogs", err)
		if n++; n == 4 {
			break
		}
	}
	if n := s.calls(listDialogs) - before; n != 2 {
		t.Errorf("stopping at the 4th dialog took %d requests, want 2", n)
	}

	var errs []error
	for d, err := range s.client(t).AllDialogs(ctx, 3) {
		if err == nil {
			t.Fatalf("all dialogs without a token yielded %+v", d)
		}
		errs = append(errs, err)
	}
	if len(errs) != 1 || !client.IsCode(errs[0], kurir.EUnauthenticated) {
		t.Fatalf("all dialogs without a token: got errors %v, want one unauthenticated", errs)
	}

	_, err := lena.Dialogs(ctx, "not-a-cursor", 0)
	wantCode(t, "dialogs with a bad cursor", err, "invalid")
	if e := apiError(t, "dialogs", err); e.Field != "cursor" || e.Reason != "invalid_cursor" || e.Status != 400 {
		t.Errorf("dialogs with a bad cursor: got %+v", e)
	}
}

func testSearch(t *testing.T, s *server) {
	ctx := t.Context()
	mona, _ := s.user(t, "mona")
	nils, _ := s.user(t, "nils")
	ch := must(mona.CreateChannel(ctx, client.NewChat{Title: "Alpine Weather", Username: "alpine_wx"}))(t, "create channel")
	must(mona.CreateChannel(ctx, client.NewChat{Title: "Private notes"}))(t, "create a channel without a name")
	got := must(nils.SearchChats(ctx, "weather", 0))(t, "search chats")
	if len(got) != 1 || got[0].ID != ch.ID || got[0].Username != "alpine_wx" {
		t.Fatalf("search chats for weather: got %+v, want the one public channel", got)
	}
	if got := must(nils.SearchChats(ctx, "@ALPINE_wx", 5))(t, "search chats by @name"); len(got) != 1 {
		t.Fatalf("search chats for @ALPINE_wx: got %+v", got)
	}

	g := must(mona.CreateGroup(ctx, client.NewChat{Title: "Trip"}))(t, "create group")
	want := must(mona.Send(ctx, g.ID, client.SendParams{Text: "Snow expected on the pass & the ridge"}))(t, "send")
	must(mona.Send(ctx, g.ID, client.SendParams{Text: "Sunny tomorrow"}))(t, "send")
	post := must(mona.Send(ctx, ch.ID, client.SendParams{Text: "Snow warning for the pass"}))(t, "post")
	if got := must(mona.SearchMessages(ctx, "snow PASS", g.ID, 0))(t, "search one chat"); len(got) != 1 || got[0] != want {
		t.Fatalf("search the group for snow pass: got %+v, want %+v", got, want)
	}
	if got := must(mona.SearchMessages(ctx, "snow", 0, 10))(t, "search every chat"); len(got) != 2 || got[0] != post || got[1] != want {
		t.Fatalf("search every chat for snow: got %+v, want the post, then the group message", got)
	}
	_, err := mona.SearchMessages(ctx, "  ", 0, 0)
	wantCode(t, "search for nothing", err, "invalid")
	if e := apiError(t, "search", err); e.Field != "q" {
		t.Errorf("search for nothing: field %q, want q", e.Field)
	}
}

// testMedia is the media issue's end-to-end check: upload a photo, send it
// in a group, members download it (whole, by range, its thumbnail), a
// non-member cannot; a file goes up in resumable parts.
func testMedia(t *testing.T, s *server) {
	ctx := t.Context()
	mia, _ := s.user(t, "mia_media")
	noa, noaU := s.user(t, "noa_media")
	oli, _ := s.user(t, "oli_media")

	img := image.NewRGBA(image.Rect(0, 0, 800, 600))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	var pic bytes.Buffer
	if err := png.Encode(&pic, img); err != nil {
		t.Fatal(err)
	}
	photo := must(mia.UploadMedia(ctx, bytes.NewReader(pic.Bytes()), int64(pic.Len()), client.UploadParams{Name: "view.png", Kind: "photo"}))(t, "upload photo")
	if photo.Kind != "photo" || photo.ContentType != "image/png" || photo.Width != 800 || photo.Height != 600 || !photo.Thumbnail || photo.Status != "ready" {
		t.Fatalf("uploaded photo: %+v", photo)
	}
	if got := must(mia.GetMedia(ctx, photo.ID))(t, "get media"); got != photo {
		t.Fatalf("GetMedia = %+v, want %+v", got, photo)
	}

	g := must(mia.CreateGroup(ctx, client.NewChat{Title: "Views", Members: []int64{noaU.ID}}))(t, "create group")
	m := must(mia.Send(ctx, g.ID, client.SendParams{Text: "from the top", MediaID: photo.ID}))(t, "send photo")
	if m.Media == nil || m.Media.MediaID != photo.ID || m.Media.Width != 800 || m.Text != "from the top" {
		t.Fatalf("sent message: %+v (media %+v)", m, m.Media)
	}
	hist := must(noa.History(ctx, g.ID, client.Anchor{}, 10))(t, "history")
	if len(hist) == 0 || hist[0].Media == nil || hist[0].Media.MediaID != photo.ID {
		t.Fatalf("member's history: %+v", hist)
	}

	var got bytes.Buffer
	if n, err := noa.Download(ctx, photo.ID, &got); err != nil || n != int64(pic.Len()) || !bytes.Equal(got.Bytes(), pic.Bytes()) {
		t.Fatalf("member download: %d bytes, %v; want the %d uploaded", n, err, pic.Len())
	}
	got.Reset()
	if _, err := noa.DownloadRange(ctx, photo.ID, 100, 50, &got); err != nil || !bytes.Equal(got.Bytes(), pic.Bytes()[100:150]) {
		t.Fatalf("range download: %q, %v", got.Bytes(), err)
	}
	got.Reset()
	must(noa.Thumbnail(ctx, photo.ID, &got))(t, "thumbnail")
	if cfg, format, err := image.DecodeConfig(&got); err != nil || format != "jpeg" || cfg.Width != 320 || cfg.Height != 240 {
		t.Fatalf("thumbnail: %s %dx%d, %v; want a 320x240 JPEG", format, cfg.Width, cfg.Height, err)
	}
	_, err := oli.Download(ctx, photo.ID, io.Discard)
	wantCode(t, "non-member download", err, "not_found")
	_, err = oli.GetMedia(ctx, photo.ID)
	wantCode(t, "non-member get", err, "not_found")
	_, err = oli.Send(ctx, g.ID, client.SendParams{MediaID: photo.ID})
	wantCode(t, "attach someone else's upload", err, "not_found")

	// A file in resumable parts, with a cancelled upload beside it.
	doc := bytes.Repeat([]byte("minutes of the meeting\n"), (client.UploadPart*2+1000)/23)
	var steps []int64
	file := must(mia.UploadFile(ctx, bytes.NewReader(doc), int64(len(doc)), client.UploadParams{Name: "minutes.txt"},
		func(done, total int64) { steps = append(steps, done) }))(t, "resumable upload")
	if file.Kind != "file" || file.Size != int64(len(doc)) || len(steps) != 3 || steps[2] != int64(len(doc)) {
		t.Fatalf("resumable upload: %+v after progress %v", file, steps)
	}
	got.Reset()
	if _, err := mia.Download(ctx, file.ID, &got); err != nil || !bytes.Equal(got.Bytes(), doc) {
		t.Fatalf("download of the resumable upload: %d bytes, %v", got.Len(), err)
	}
	up := must(mia.StartUpload(ctx, 10, client.UploadParams{Name: "never.bin"}))(t, "start upload")
	up = must(mia.AppendUpload(ctx, up.ID, 0, strings.NewReader("12345"), 5))(t, "append")
	if st := must(mia.UploadStatus(ctx, up.ID))(t, "status"); st.Received != 5 || st.Media != nil {
		t.Fatalf("upload status: %+v", st)
	}
	ok(t, "cancel upload", mia.CancelUpload(ctx, up.ID))
	_, err = mia.UploadStatus(ctx, up.ID)
	wantCode(t, "status of a cancelled upload", err, "not_found")
}
