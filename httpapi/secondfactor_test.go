package httpapi_test

import (
	"net/http"
	"testing"

	"kurir"
	"kurir/legal/totp"
	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

// TestStaffNeedSecondFactor: on a server that requires it, a moderator and an
// admin are refused the staff tools (403 second_factor_required) until they
// set up an authenticator app; then logging in needs its code, once each.
// Ordinary operations and ordinary users are not affected.
func TestStaffNeedSecondFactor(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{staff2FA: true})
		mod := h.staff(t, "magdalena", kurir.RoleModerator)
		adm := h.staff(t, "adalbert", kurir.RoleAdmin)
		usr := h.person(t, "ulrike")
		refused := problemWant{status: http.StatusForbidden, code: "forbidden", reason: "second_factor_required"}

		h.do(t, "GET", "/api/v1/moderation/cases", mod.token, nil).wantProblem(t, "queue without a second factor", refused)
		h.do(t, "GET", "/api/v1/moderation/flaggers", adm.token, nil).wantProblem(t, "flaggers without a second factor", refused)
		tri := h.staff(t, "trinity", kurir.RoleTriage)
		h.do(t, "GET", "/api/v1/jurisdictions", tri.token, nil).wantProblem(t, "jurisdictions without a second factor", refused)
		lgl := h.staff(t, "leopold", kurir.RoleLegal)
		h.do(t, "GET", "/api/v1/legal-team/requests", lgl.token, nil).wantProblem(t, "legal team without a second factor", refused)
		// A tool the role may not use anyway says so, not that a second factor is missing.
		h.do(t, "GET", "/api/v1/legal-team/requests", mod.token, nil).wantProblem(t, "legal team as a moderator",
			problemWant{status: http.StatusForbidden, code: "forbidden", reason: "legal_only"})
		// Someone who is not staff gets the tool's own answer, which names no second factor.
		h.do(t, "GET", "/api/v1/moderation/cases", usr.token, nil).wantProblem(t, "queue as a user",
			problemWant{status: http.StatusForbidden, code: "forbidden"})
		// A staff member's ordinary operations work.
		h.do(t, "GET", "/api/v1/me", mod.token, nil).want(t, "me", http.StatusOK, nil)

		// Set up the app: the secret is shown once, then confirmed.
		var e struct{ Secret, URI string }
		h.do(t, "POST", "/api/v1/me/totp", mod.token, nil).want(t, "enrol", http.StatusOK, &e)
		key, err := totp.ParseKey(e.Secret)
		if err != nil {
			t.Fatalf("secret %q: %v", e.Secret, err)
		}
		h.do(t, "POST", "/api/v1/me/totp/confirm", mod.token, map[string]string{"code": "12345"}).
			wantProblem(t, "confirm with a malformed code", problemWant{status: http.StatusBadRequest, code: "invalid", reason: "totp_invalid", field: "code"})
		h.do(t, "GET", "/api/v1/moderation/cases", mod.token, nil).wantProblem(t, "queue before confirming", refused)
		confirm := key.Code(h.clock.Now())
		h.do(t, "POST", "/api/v1/me/totp/confirm", mod.token, map[string]string{"code": confirm}).
			want(t, "confirm", http.StatusNoContent, nil)
		h.do(t, "GET", "/api/v1/moderation/cases", mod.token, nil).want(t, "queue with a second factor", http.StatusOK, nil)
		var me struct {
			TOTP bool `json:"totp_enabled"`
		}
		h.do(t, "GET", "/api/v1/me", mod.token, nil).want(t, "me", http.StatusOK, &me)
		if !me.TOTP {
			t.Error("GET /api/v1/me: totp_enabled is false after confirming")
		}

		// Logging in now needs a code, and each code works once.
		loginWith := func(code string) response {
			return h.do(t, "POST", "/api/v1/sessions", "", map[string]string{"username": "magdalena", "password": password, "totp": code})
		}
		loginWith("").wantProblem(t, "login without a code", problemWant{status: http.StatusUnauthorized, code: "unauthenticated", reason: "totp_required", field: "totp"})
		loginWith(confirm).wantProblem(t, "login replaying the confirming code", problemWant{status: http.StatusUnauthorized, code: "unauthenticated", reason: "totp_invalid", field: "totp"})
		h.clock.Advance(totp.Period)
		code := key.Code(h.clock.Now())
		var l loginResult
		loginWith(code).want(t, "login with the code", http.StatusCreated, &l)
		h.do(t, "GET", "/api/v1/moderation/cases", l.Token, nil).want(t, "queue from the new session", http.StatusOK, nil)
		loginWith(code).wantProblem(t, "login replaying the code", problemWant{status: http.StatusUnauthorized, code: "unauthenticated", reason: "totp_invalid", field: "totp"})

		// Turning it off needs the password and a code; then the tools are closed again.
		h.clock.Advance(totp.Period)
		code = key.Code(h.clock.Now())
		h.do(t, "POST", "/api/v1/me/totp/disable", mod.token, map[string]string{"password": "not-the-password-1", "code": code}).
			wantProblem(t, "disable with a wrong password", problemWant{status: http.StatusForbidden, code: "forbidden", reason: "wrong_password", field: "password"})
		h.do(t, "GET", "/api/v1/moderation/cases", mod.token, nil).want(t, "queue after a refused disable", http.StatusOK, nil)
		h.do(t, "POST", "/api/v1/me/totp/disable", mod.token, map[string]string{"password": password, "code": code}).
			want(t, "disable", http.StatusNoContent, nil)
		h.do(t, "GET", "/api/v1/moderation/cases", mod.token, nil).wantProblem(t, "queue after disabling", refused)
	}, schema...)
}
