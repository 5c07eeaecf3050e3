package client_test

import (
	"testing"

	"kurir/client"
	"kurir/legal/totp"
)

// testTOTP sets up an authenticator through the SDK, logs in with its code
// (refused without one, and when replayed) and turns it off again.
func testTOTP(t *testing.T, s *server) {
	ctx := t.Context()
	c := s.client(t)
	must(c.Register(ctx, client.RegisterParams{Username: "tobias", Password: password}))(t, "register")
	res := must(c.Login(ctx, client.LoginParams{Username: "tobias", Password: password}))(t, "login")
	me := c.WithToken(res.Token)
	e := must(me.EnrolAuthenticator(ctx))(t, "enrol")
	key := must(totp.ParseKey(e.Secret))(t, "the secret")
	ok(t, "confirm", me.ConfirmAuthenticator(ctx, key.Code(s.clock.Now())))
	if u := must(me.Me(ctx))(t, "me"); !u.TOTP {
		t.Errorf("me after confirming: TOTP false")
	}
	_, err := c.Login(ctx, client.LoginParams{Username: "tobias", Password: password})
	wantReason(t, "login without a code", err, "unauthenticated", "totp_required")
	_, err = c.Login(ctx, client.LoginParams{Username: "tobias", Password: password, TOTP: key.Code(s.clock.Now())})
	wantReason(t, "login with the confirming code", err, "unauthenticated", "totp_invalid")
	s.clock.Advance(totp.Period)
	must(c.Login(ctx, client.LoginParams{Username: "tobias", Password: password, TOTP: key.Code(s.clock.Now())}))(t, "login with a code")
	s.clock.Advance(totp.Period)
	ok(t, "disable", me.DisableAuthenticator(ctx, password, key.Code(s.clock.Now())))
	must(c.Login(ctx, client.LoginParams{Username: "tobias", Password: password}))(t, "login with the password alone")
}
