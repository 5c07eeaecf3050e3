package httpapi

import (
	"net/http"
	"slices"

	"kurir"
	"kurir/account"
	"kurir/openapi"
)

// staffTags are the tags of the operations that read reported content or act
// on accounts and markets, with the roles each lets in: those need a second
// factor for them (see account.Service.NeedsSecondFactor).
var staffTags = map[string][]kurir.Role{
	"moderation":    {kurir.RoleTriage, kurir.RoleModerator, kurir.RoleAdmin},
	"jurisdictions": {kurir.RoleTriage, kurir.RoleModerator, kurir.RoleLegal, kurir.RoleAdmin},
	"legal-team":    {kurir.RoleLegal, kurir.RoleAdmin},
}

// staffRoles returns the roles op, a staff tool, lets in, or nil if it is
// not one.
func staffRoles(op openapi.Operation) []kurir.Role {
	var roles []kurir.Role
	for _, t := range op.Tags {
		for _, r := range staffTags[t] {
			if !slices.Contains(roles, r) {
				roles = append(roles, r)
			}
		}
	}
	return roles
}

// withSecondFactor refuses someone with one of roles but no authenticator
// app, while the server requires one, with 403 "second_factor_required"; it
// runs behind withAuth. Anyone else passes to the operation's own role
// check, so that a role the tool refuses anyway hears that instead.
func withSecondFactor(accounts *account.Service, roles []kurir.Role, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := principal(r.Context()); p.Has(roles...) && accounts.NeedsSecondFactor(p) {
			writeError(w, r, &kurir.Error{Code: kurir.EForbidden, Reason: "second_factor_required",
				Message: "Staff tools need a second factor: set up an authenticator app in Settings, then try again."})
			return
		}
		next.ServeHTTP(w, r)
	})
}

type totpEnrolView struct {
	Secret string `json:"secret" jsonschema:"description=The authenticator secret in base32\\, for typing into the app. Shown only now."`
	URI    string `json:"uri" jsonschema:"description=The otpauth:// URI\\, for a QR code. Shown only now."`
}

type totpCodeRequest struct {
	Code string `json:"code" jsonschema:"description=The 6-digit code the authenticator app shows now."`
}

type totpDisableRequest struct {
	Password string `json:"password" jsonschema:"description=Your password."`
	Code     string `json:"code" jsonschema:"description=The 6-digit code the authenticator app shows now."`
}

func handleEnrolTOTP(accounts *account.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e, err := accounts.EnrolTOTP(r.Context(), principal(r.Context()).User.ID)
		if err != nil {
			writeError(w, r, err)
			return
		}
		encode(w, http.StatusOK, totpEnrolView{Secret: e.Secret, URI: e.URI})
	})
}

func handleConfirmOwnTOTP(accounts *account.Service, limit int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[totpCodeRequest](r, limit)
		if err != nil {
			writeError(w, r, err)
			return
		}
		respondDone(w, r, accounts.ConfirmTOTP(r.Context(), principal(r.Context()).User.ID, req.Code))
	})
}

func handleDisableTOTP(accounts *account.Service, limit int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[totpDisableRequest](r, limit)
		if err != nil {
			writeError(w, r, err)
			return
		}
		respondDone(w, r, accounts.DisableTOTP(r.Context(), principal(r.Context()).User.ID, req.Password, req.Code))
	})
}

// addTOTPRoutes installs the operations that set up and remove an account's
// authenticator app.
func addTOTPRoutes(rt *router, accounts *account.Service, limit int64) {
	tags := []string{"accounts"}
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/me/totp", ID: "enrolTOTP", Tags: tags, Auth: true,
		Summary: "Start setting up an authenticator app (second factor)",
		Description: "Returns a new secret, shown only now, in place of any earlier one not yet confirmed. " +
			"Confirm it with POST /api/v1/me/totp/confirm; from then on logging in needs a code. 409 totp_enabled if one is set up.",
		Responses: map[int]openapi.Response{200: {Body: totpEnrolView{}}},
	}, handleEnrolTOTP(accounts))
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/me/totp/confirm", ID: "confirmTOTP", Tags: tags, Auth: true,
		Summary:     "Turn the authenticator app on with a code it shows",
		Description: "400 totp_invalid for a wrong code; 409 totp_not_started before POST /api/v1/me/totp. The code cannot then be used to log in.",
		Request:     totpCodeRequest{},
		Responses:   map[int]openapi.Response{204: {Description: "Logging in now needs a code."}},
	}, handleConfirmOwnTOTP(accounts, limit))
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/me/totp/disable", ID: "disableTOTP", Tags: tags, Auth: true,
		Summary:     "Turn the authenticator app off",
		Description: "Needs the password (403 wrong_password) and a current code (400 totp_invalid). Staff then lose their tools while the server requires a second factor.",
		Request:     totpDisableRequest{},
		Responses:   map[int]openapi.Response{204: {Description: "Logging in needs the password alone."}},
	}, handleDisableTOTP(accounts, limit))
}
