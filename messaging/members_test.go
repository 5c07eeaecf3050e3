package messaging_test

import (
	"testing"
	"time"

	"kurir"
	"kurir/messaging"
)

// The acceptance check for groups: roles and permissions in a group of 50.
func TestGroupOfFifty(t *testing.T) {
	run(t, messaging.Config{}, func(t *testing.T, e *env) {
		u := e.users("member", 50)
		latecomer := e.user("latecomer")
		owner, admin1, admin2 := u[0], u[1], u[2]
		g, err := e.svc.CreateGroup(e.ctx, owner, messaging.NewChat{Title: "Fifty", Username: "fiftyfriends", Members: u[1:40]})
		if err != nil {
			t.Fatal(err)
		}
		members := int64(40)
		// checkCount compares member_count with the memberships actually stored.
		checkCount := func(when string) {
			t.Helper()
			c := e.chat(owner, g.ID)
			rows := e.count(`SELECT COUNT(*) FROM chat_members WHERE chat_id = $1 AND status = 'member'`, g.ID)
			if c.MemberCount != members || int64(rows) != members {
				t.Errorf("%s: member_count %d, %d memberships stored; want %d", when, c.MemberCount, rows, members)
			}
		}
		checkCount("created with 40")
		for _, x := range u[40:45] {
			if c, err := e.svc.Join(e.ctx, x, g.ID); err != nil || c.Role != messaging.Member {
				t.Fatalf("Join public group: %+v, %v", c, err)
			}
		}
		must(t, "member adds 5", e.svc.AddMembers(e.ctx, u[5], g.ID, u[45:50]))
		if _, err := e.svc.Join(e.ctx, u[40], g.ID); err != nil {
			t.Errorf("joining twice: %v", err)
		}
		must(t, "adding a member again", e.svc.AddMembers(e.ctx, u[5], g.ID, u[45:46]))
		members = 50
		checkCount("after 10 joined")

		// Roles: only the owner appoints.
		must(t, "appoint admin1", e.svc.SetRole(e.ctx, owner, g.ID, admin1, messaging.Admin))
		must(t, "appoint admin2", e.svc.SetRole(e.ctx, owner, g.ID, admin2, messaging.Admin))
		if c := e.chat(admin1, g.ID); c.Role != messaging.Admin {
			t.Errorf("admin1's role = %q", c.Role)
		}
		wantCode(t, "admin sets a role", e.svc.SetRole(e.ctx, admin1, g.ID, u[3], messaging.Admin), kurir.EForbidden, "")
		wantCode(t, "member sets a role", e.svc.SetRole(e.ctx, u[3], g.ID, u[3], messaging.Admin), kurir.EForbidden, "")
		wantCode(t, "unknown role", e.svc.SetRole(e.ctx, owner, g.ID, u[3], "king"), kurir.EInvalid, "unknown_role")
		wantCode(t, "role for a non-member", e.svc.SetRole(e.ctx, owner, g.ID, latecomer, messaging.Admin), kurir.ENotFound, "")

		// By default members post.
		e.send(u[10], g.ID, "hello fifty")

		// A banned member stays out until an admin adds them back.
		banned := u[11]
		must(t, "ban", e.svc.RemoveMember(e.ctx, admin1, g.ID, banned, true))
		members--
		checkCount("after a ban")
		_, err = e.svc.Join(e.ctx, banned, g.ID)
		wantCode(t, "banned user joins", err, kurir.EForbidden, "")
		_, err = e.svc.History(e.ctx, banned, g.ID, 0, messaging.Older, 10)
		wantCode(t, "banned user reads the public group", err, kurir.ENotFound, "")
		inv, err := e.svc.CreateInvite(e.ctx, admin1, g.ID, time.Time{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.JoinByInvite(e.ctx, banned, inv.Code)
		wantCode(t, "banned user follows an invite", err, kurir.EForbidden, "")
		wantCode(t, "member adds a banned user", e.svc.AddMembers(e.ctx, u[12], g.ID, []kurir.UserID{banned}), kurir.EForbidden, "")
		checkCount("after the banned user's attempts")
		must(t, "admin adds the banned user back", e.svc.AddMembers(e.ctx, admin1, g.ID, []kurir.UserID{banned}))
		members++
		checkCount("after unbanning")
		if c := e.chat(banned, g.ID); c.Role != messaging.Member {
			t.Errorf("unbanned user's role = %q", c.Role)
		}

		// Removing: admins remove members, only the owner removes admins.
		wantCode(t, "member removes a member", e.svc.RemoveMember(e.ctx, u[10], g.ID, u[13], false), kurir.EForbidden, "")
		wantCode(t, "admin removes an admin", e.svc.RemoveMember(e.ctx, admin1, g.ID, admin2, false), kurir.EForbidden, "")
		wantCode(t, "remove a non-member", e.svc.RemoveMember(e.ctx, admin1, g.ID, latecomer, false), kurir.ENotFound, "")
		wantCode(t, "owner removes themself", e.svc.RemoveMember(e.ctx, owner, g.ID, owner, false), kurir.EInvalid, "self")
		checkCount("after refused removals")
		must(t, "owner removes an admin", e.svc.RemoveMember(e.ctx, owner, g.ID, admin2, false))
		members--
		checkCount("after removing an admin")
		// Removed without a ban, they may come back, as a plain member.
		if c, err := e.svc.Join(e.ctx, admin2, g.ID); err != nil || c.Role != messaging.Member {
			t.Errorf("removed admin rejoins: %+v, %v", c, err)
		}
		members++
		checkCount("after rejoining")

		// Permissions: only admins change them.
		noPost := messaging.Permissions{EditInfo: true}
		_, err = e.svc.EditInfo(e.ctx, u[10], g.ID, messaging.ChatInfo{Permissions: &noPost})
		wantCode(t, "member changes permissions", err, kurir.EForbidden, "")
		title := "Fifty, by a member"
		_, err = e.svc.EditInfo(e.ctx, u[10], g.ID, messaging.ChatInfo{Title: &title})
		wantCode(t, "member edits info without permission", err, kurir.EForbidden, "")
		c, err := e.svc.EditInfo(e.ctx, admin1, g.ID, messaging.ChatInfo{Permissions: &noPost})
		if err != nil || c.Permissions != noPost {
			t.Fatalf("admin sets permissions: %+v, %v", c.Permissions, err)
		}

		seq := e.storedSeq(g.ID)
		_, err = e.trySend(u[10], g.ID, "may I?")
		wantCode(t, "member posts when only admins may", err, kurir.EForbidden, "")
		if got := e.storedSeq(g.ID); got != seq {
			t.Errorf("refused post moved the group from seq %d to %d", seq, got)
		}
		e.send(admin1, g.ID, "admins may")
		e.send(owner, g.ID, "and the owner")
		wantCode(t, "member adds without permission", e.svc.AddMembers(e.ctx, u[10], g.ID, []kurir.UserID{latecomer}), kurir.EForbidden, "")
		_, err = e.svc.CreateInvite(e.ctx, u[10], g.ID, time.Time{}, 0)
		wantCode(t, "member creates invite without permission", err, kurir.EForbidden, "")
		wantCode(t, "member pins without permission", e.svc.Pin(e.ctx, u[10], g.ID, seq+1), kurir.EForbidden, "")
		must(t, "admin pins", e.svc.Pin(e.ctx, admin1, g.ID, seq+1))
		must(t, "admin adds", e.svc.AddMembers(e.ctx, admin1, g.ID, []kurir.UserID{latecomer}))
		members++
		checkCount("after an admin added one more")

		// EditInfo permission lets members retitle, never change permissions.
		if c, err := e.svc.EditInfo(e.ctx, u[10], g.ID, messaging.ChatInfo{Title: &title}); err != nil || c.Title != title {
			t.Errorf("member with EditInfo retitles: %+v, %v", c, err)
		}
		open := messaging.Permissions{Post: true, AddUsers: true, Pin: true, EditInfo: true}
		_, err = e.svc.EditInfo(e.ctx, u[10], g.ID, messaging.ChatInfo{Title: &title, Permissions: &open})
		wantCode(t, "member with EditInfo changes permissions", err, kurir.EForbidden, "")
		if c := e.chat(u[10], g.ID); c.Permissions != noPost {
			t.Errorf("permissions now %+v, want %+v", c.Permissions, noPost)
		}
		empty := " "
		_, err = e.svc.EditInfo(e.ctx, admin1, g.ID, messaging.ChatInfo{Title: &empty})
		wantCode(t, "blank title", err, kurir.EInvalid, "empty")

		// Leaving.
		must(t, "member leaves", e.svc.Leave(e.ctx, u[49], g.ID))
		members--
		wantCode(t, "leave twice", e.svc.Leave(e.ctx, u[49], g.ID), kurir.ENotFound, "")
		checkCount("after a member left")
		wantCode(t, "last owner leaves", e.svc.Leave(e.ctx, owner, g.ID), kurir.EConflict, "")
		wantCode(t, "last owner steps down", e.svc.SetRole(e.ctx, owner, g.ID, owner, messaging.Member), kurir.EConflict, "")
		must(t, "hand over", e.svc.SetRole(e.ctx, owner, g.ID, admin1, messaging.Owner))
		must(t, "former sole owner leaves", e.svc.Leave(e.ctx, owner, g.ID))
		members--
		checkCount("after the first owner left")
		must(t, "new owner appoints", e.svc.SetRole(e.ctx, admin1, g.ID, u[20], messaging.Admin))
		if members != 49 {
			t.Fatalf("test bookkeeping: %d members", members)
		}
	})
}

func TestMembersList(t *testing.T) {
	run(t, messaging.Config{}, func(t *testing.T, e *env) {
		owner, a, b, outsider := e.user("listowner"), e.user("listmember"), e.user("listother"), e.user("listoutsider")
		g := e.group(owner, "Listed", a, b)
		got, err := e.svc.Members(e.ctx, a, g.ID, 0, 2)
		must(t, "first page", err)
		if len(got) != 2 || got[0].UserID != owner || got[0].Username != "listowner" || got[0].Role != messaging.Owner {
			t.Fatalf("first page = %+v", got)
		}
		rest, err := e.svc.Members(e.ctx, a, g.ID, got[1].UserID, 2)
		must(t, "second page", err)
		if len(rest) != 1 || rest[0].UserID != b {
			t.Errorf("second page = %+v, want the third member", rest)
		}
		if _, err := e.svc.Members(e.ctx, outsider, g.ID, 0, 10); kurir.ErrorCode(err) != kurir.ENotFound {
			t.Errorf("outsider: err = %v, want not found", err)
		}
		ch, err := e.svc.CreateChannel(e.ctx, owner, messaging.NewChat{Title: "Listed channel", Username: "listedch"})
		must(t, "channel", err)
		_, err = e.svc.Join(e.ctx, a, ch.ID)
		must(t, "subscribe", err)
		if got, _ := e.svc.Members(e.ctx, a, ch.ID, 0, 10); len(got) != 1 || got[0].UserID != owner {
			t.Errorf("a subscriber sees %+v, want only the admins", got)
		}
		if got, _ := e.svc.Members(e.ctx, owner, ch.ID, 0, 10); len(got) != 2 {
			t.Errorf("the owner sees %+v, want every subscriber", got)
		}
	})
}
