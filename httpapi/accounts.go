package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"kurir"
	"kurir/account"
	"kurir/jurisdiction"
	"kurir/realtime"
)

type registerRequest struct {
	Username    string `json:"username" jsonschema:"description=4 to 32 letters\\, digits or underscores\\, starting with a letter; one script only."`
	Password    string `json:"password" jsonschema:"description=At least 8 characters; common and guessable passwords are refused."`
	DisplayName string `json:"display_name,omitempty" jsonschema:"description=Shown to others; defaults to the username."`
	Email       string `json:"email,omitempty" jsonschema:"description=For account recovery."`
	Phone       string `json:"phone,omitempty" jsonschema:"description=International format with country code\\, e.g. +6281234567890."`
	Country     string `json:"country,omitempty" jsonschema:"description=The country you live in (ISO 3166-1 alpha-2\\, e.g. ID). With the country your connection comes from\\, it decides whose law applies to what you see."`
}

// selfView is an account as its owner sees it.
type selfView struct {
	ID          int64  `json:"id"`
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
	Email       string `json:"email,omitempty"`
	Phone       string `json:"phone,omitempty"`
	Country     string `json:"country,omitempty" jsonschema:"description=The country the account declares (ISO 3166-1 alpha-2)."`
	Role        string `json:"role" jsonschema:"enum=user,enum=triage,enum=moderator,enum=legal,enum=admin"`
	State       string `json:"state" jsonschema:"enum=active,enum=suspended,enum=banned"`
	StateReason string `json:"state_reason,omitempty" jsonschema:"description=Why the account is suspended or banned."`
	// SuspendedUntil is when a suspension ends.
	SuspendedUntil *time.Time `json:"suspended_until,omitempty"`
	// CreatedAt is when the account was registered.
	CreatedAt           time.Time  `json:"created_at"`
	DeletionScheduledAt *time.Time `json:"deletion_scheduled_at,omitempty" jsonschema:"description=When the account will be deleted\\, if deletion was requested."`
	TOTP                bool       `json:"totp_enabled,omitempty" jsonschema:"description=An authenticator app is set up: logging in needs its code."`
}

func newSelfView(u account.User) selfView {
	v := selfView{ID: int64(u.ID), Username: u.Username, DisplayName: u.DisplayName, Email: u.Email, Phone: u.Phone,
		Country: u.Country, Role: string(u.Role), State: string(u.State), StateReason: u.StateReason, CreatedAt: u.CreatedAt,
		TOTP: u.TOTP}
	if !u.SuspendedUntil.IsZero() {
		t := u.SuspendedUntil
		v.SuspendedUntil = &t
	}
	if !u.DeletionScheduledAt.IsZero() {
		t := u.DeletionScheduledAt
		v.DeletionScheduledAt = &t
	}
	return v
}

// publicUser is an account as anyone else sees it.
type publicUser struct {
	ID          int64  `json:"id"`
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
}

func handleRegister(rt *router, accounts *account.Service, limit int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[registerRequest](r, limit)
		if err != nil {
			writeError(w, r, err)
			return
		}
		// Where sign-up is off, or the market withdrawn, in the country of
		// the connection or the one declared.
		loc := kurir.LocationFrom(r.Context())
		loc.Declared = strings.ToUpper(strings.TrimSpace(req.Country))
		if err := rt.allow(r.WithContext(kurir.WithLocation(r.Context(), loc)), jurisdiction.Signup); err != nil {
			writeError(w, r, err)
			return
		}
		u, err := accounts.Register(r.Context(), account.RegisterParams{
			Username: req.Username, Password: req.Password, DisplayName: req.DisplayName,
			Email: req.Email, Phone: req.Phone, Country: req.Country, IP: clientIP(r),
		})
		if err != nil {
			writeError(w, r, err)
			return
		}
		w.Header().Set("Location", "/api/v1/me")
		encode(w, http.StatusCreated, newSelfView(u))
	})
}

type loginRequest struct {
	Username   string `json:"username"`
	Password   string `json:"password"`
	DeviceName string `json:"device_name,omitempty" jsonschema:"description=How this device appears in your list of devices\\, e.g. Firefox on Linux."`
	TOTP       string `json:"totp,omitempty" jsonschema:"description=The code the authenticator app shows; required once one is set up (401 totp_required\\, totp_invalid for a wrong or used code)."`
	Restricted bool   `json:"restricted,omitempty" jsonschema:"description=Log in even if the account is suspended or banned; the token then serves only GET /api/v1/me\\, the statements of reasons\\, appeals\\, your reports and logging out."`
}

type sessionView struct {
	ID         int64     `json:"id"`
	DeviceName string    `json:"device_name"`
	UserAgent  string    `json:"user_agent"`
	IP         string    `json:"ip"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	// Current marks the session making the request.
	Current bool `json:"current"`
}

func newSessionView(s account.Session, current int64) sessionView {
	return sessionView{ID: s.ID, DeviceName: s.DeviceName, UserAgent: s.UserAgent, IP: s.IP,
		CreatedAt: s.CreatedAt, LastSeenAt: s.LastSeenAt, Current: s.ID == current}
}

type loginResponse struct {
	// Token is the bearer token; it is shown only in this response.
	Token   string      `json:"token" jsonschema:"description=The bearer token for Authorization headers. Shown only once."`
	Session sessionView `json:"session"`
	User    selfView    `json:"user"`
}

func handleLogin(rt *router, accounts *account.Service, limit int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[loginRequest](r, limit)
		if err != nil {
			writeError(w, r, err)
			return
		}
		p := account.LoginParams{
			Username: req.Username, Password: req.Password, DeviceName: req.DeviceName,
			UserAgent: r.UserAgent(), IP: clientIP(r), Restricted: req.Restricted, Code: req.TOTP,
		}
		if j := rt.d.Jurisdiction; j != nil {
			// Refused in a withdrawn market, where the connection comes
			// from or the account says it is; only once the password is
			// proven, so that nobody learns an account's country.
			p.Admit = func(u account.User) error {
				loc := kurir.LocationFrom(r.Context())
				loc.Declared = u.Country
				return j.Admit(loc, lang(r))
			}
		}
		token, sess, u, err := accounts.Login(r.Context(), p)
		if err != nil {
			writeError(w, r, err)
			return
		}
		encode(w, http.StatusCreated, loginResponse{Token: token, Session: newSessionView(sess, sess.ID), User: newSelfView(u)})
	})
}

type sessionList struct {
	Sessions []sessionView `json:"sessions"`
}

func handleListSessions(accounts *account.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := principal(r.Context())
		list, err := accounts.Sessions(r.Context(), p.User.ID)
		if err != nil {
			writeError(w, r, err)
			return
		}
		out := sessionList{Sessions: make([]sessionView, 0, len(list))}
		for _, s := range list {
			out.Sessions = append(out.Sessions, newSessionView(s, p.SessionID))
		}
		encode(w, http.StatusOK, out)
	})
}

// cutOffLive ends the live streams of logged-out devices on every node
// (hub may be nil when the server has no live stream).
func cutOffLive(ctx context.Context, hub *realtime.Hub, user kurir.UserID, device, keep int64) {
	if hub != nil {
		hub.EndDevice(ctx, user, device, keep)
	}
}

func handleLogout(accounts *account.Service, hub *realtime.Hub) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := principal(r.Context())
		if err := accounts.Logout(r.Context(), p); err != nil {
			writeError(w, r, err)
			return
		}
		cutOffLive(r.Context(), hub, p.User.ID, p.SessionID, 0)
		w.WriteHeader(http.StatusNoContent)
	})
}

func handleRevokeSession(accounts *account.Service, hub *realtime.Hub) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil {
			writeError(w, r, kurir.Invalid("id", "invalid_id", "The session ID %q is not a number.", r.PathValue("id")))
			return
		}
		me := principal(r.Context()).User.ID
		if err := accounts.RevokeSession(r.Context(), me, id); err != nil {
			writeError(w, r, err)
			return
		}
		cutOffLive(r.Context(), hub, me, id, 0)
		w.WriteHeader(http.StatusNoContent)
	})
}

func handleGetMe() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		encode(w, http.StatusOK, newSelfView(principal(r.Context()).User))
	})
}

type profileRequest struct {
	DisplayName *string `json:"display_name,omitempty"`
	Email       *string `json:"email,omitempty" jsonschema:"description=An empty string removes the address."`
	Phone       *string `json:"phone,omitempty" jsonschema:"description=An empty string removes the number."`
	Country     *string `json:"country,omitempty" jsonschema:"description=The country you live in (ISO 3166-1 alpha-2); an empty string removes it."`
}

func handleUpdateMe(accounts *account.Service, limit int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[profileRequest](r, limit)
		if err != nil {
			writeError(w, r, err)
			return
		}
		u, err := accounts.UpdateProfile(r.Context(), principal(r.Context()).User.ID, account.ProfileUpdate{
			DisplayName: req.DisplayName, Email: req.Email, Phone: req.Phone, Country: req.Country,
		})
		if err != nil {
			writeError(w, r, err)
			return
		}
		encode(w, http.StatusOK, newSelfView(u))
	})
}

type passwordRequest struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

func handleChangePassword(accounts *account.Service, hub *realtime.Hub, limit int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[passwordRequest](r, limit)
		if err != nil {
			writeError(w, r, err)
			return
		}
		p := principal(r.Context())
		if err := accounts.ChangePassword(r.Context(), p.User.ID, p.SessionID, req.CurrentPassword, req.NewPassword); err != nil {
			writeError(w, r, err)
			return
		}
		cutOffLive(r.Context(), hub, p.User.ID, 0, p.SessionID) // the other devices were logged out
		w.WriteHeader(http.StatusNoContent)
	})
}

type deletionRequest struct {
	Password string `json:"password" jsonschema:"description=Your password\\, asked again so that a stolen session cannot delete the account."`
}

type deletionResponse struct {
	ScheduledAt time.Time `json:"scheduled_at" jsonschema:"description=When the account will be deleted unless you log in before then."`
}

func handleRequestDeletion(accounts *account.Service, limit int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[deletionRequest](r, limit)
		if err != nil {
			writeError(w, r, err)
			return
		}
		at, err := accounts.RequestDeletion(r.Context(), principal(r.Context()).User.ID, req.Password)
		if err != nil {
			writeError(w, r, err)
			return
		}
		encode(w, http.StatusAccepted, deletionResponse{ScheduledAt: at})
	})
}

func handleGetUser(accounts *account.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := accounts.UserByUsername(r.Context(), r.PathValue("username"))
		if err != nil {
			writeError(w, r, err)
			return
		}
		if u.State == account.StateDeleted {
			writeError(w, r, kurir.Errorf(kurir.ENotFound, "No user %q.", r.PathValue("username")))
			return
		}
		encode(w, http.StatusOK, publicUser{ID: int64(u.ID), Username: u.Username, DisplayName: u.DisplayName})
	})
}
