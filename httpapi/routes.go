package httpapi

import (
	"net/http"

	"kurir/openapi"
)

// router installs each operation on the mux and documents it in the OpenAPI
// spec in the same call, so no route can go undocumented.
type router struct {
	mux  *http.ServeMux
	spec *openapi.Spec
	m    *metrics
	d    Deps
}

func (rt *router) handle(op openapi.Operation, h http.Handler) {
	rt.spec.Add(op)
	if op.Auth {
		h = withAuth(rt.d.Accounts, h)
	}
	rt.mux.Handle(op.Method+" "+op.Path, rt.m.instrument(op.ID, h))
}

// addRoutes installs every route of the API on mux and returns the spec that
// documents them. This is the one list of what the API serves.
func addRoutes(mux *http.ServeMux, d Deps, m *metrics) *openapi.Spec {
	spec := openapi.New(openapi.Info{
		Title:   "kurir API",
		Version: "1",
		Description: "The kurir messenger's HTTP API. Requests and responses are JSON; errors are RFC 9457 " +
			"problem details (application/problem+json) with a stable `code`. Authenticate with " +
			"`Authorization: Bearer <token>`, the token from POST /api/v1/sessions.",
		Problem: Problem{},
	})
	rt := &router{mux: mux, spec: spec, m: m, d: d}
	limit := d.MaxBodyBytes

	// Probes are outside the versioned API; NewServer serves the document itself.
	mux.Handle("GET /healthz", handleHealthz())
	mux.Handle("GET /readyz", handleReadyz(d.Ready))

	// Accounts and sessions.
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/accounts", ID: "register", Tags: []string{"accounts"},
		Summary:   "Create an account",
		Request:   registerRequest{},
		Responses: map[int]openapi.Response{201: {Description: "The new account.", Body: selfView{}}},
	}, handleRegister(d.Accounts, limit))
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/sessions", ID: "login", Tags: []string{"sessions"},
		Summary:     "Log in: open a session on a device",
		Description: "Returns the bearer token for the new session. The token is shown only once.",
		Request:     loginRequest{},
		Responses:   map[int]openapi.Response{201: {Description: "The new session and its token.", Body: loginResponse{}}},
	}, handleLogin(d.Accounts, limit))
	rt.handle(openapi.Operation{Method: "GET", Path: "/api/v1/sessions", ID: "listSessions", Tags: []string{"sessions"}, Auth: true,
		Summary:   "List the devices logged in to your account",
		Responses: map[int]openapi.Response{200: {Body: sessionList{}}},
	}, handleListSessions(d.Accounts))
	rt.handle(openapi.Operation{Method: "DELETE", Path: "/api/v1/sessions/current", ID: "logout", Tags: []string{"sessions"}, Auth: true,
		Summary:   "Log out this device",
		Responses: map[int]openapi.Response{204: {Description: "Logged out."}},
	}, handleLogout(d.Accounts))
	rt.handle(openapi.Operation{Method: "DELETE", Path: "/api/v1/sessions/{id}", ID: "revokeSession", Tags: []string{"sessions"}, Auth: true,
		Summary:   "Log out another device",
		Params:    []openapi.Param{{Name: "id", In: "path", Description: "The session's ID.", Schema: int64(0)}},
		Responses: map[int]openapi.Response{204: {Description: "The device is logged out."}},
	}, handleRevokeSession(d.Accounts))
	rt.handle(openapi.Operation{Method: "GET", Path: "/api/v1/me", ID: "getMe", Tags: []string{"accounts"}, Auth: true,
		Summary:   "Your own account",
		Responses: map[int]openapi.Response{200: {Body: selfView{}}},
	}, handleGetMe())
	rt.handle(openapi.Operation{Method: "PATCH", Path: "/api/v1/me", ID: "updateMe", Tags: []string{"accounts"}, Auth: true,
		Summary:     "Change your profile",
		Description: "Fields left out are unchanged; an empty email or phone removes it.",
		Request:     profileRequest{},
		Responses:   map[int]openapi.Response{200: {Body: selfView{}}},
	}, handleUpdateMe(d.Accounts, limit))
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/me/password", ID: "changePassword", Tags: []string{"accounts"}, Auth: true,
		Summary:   "Change your password; every other device is logged out",
		Request:   passwordRequest{},
		Responses: map[int]openapi.Response{204: {Description: "Changed."}},
	}, handleChangePassword(d.Accounts, limit))
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/me/deletion", ID: "requestDeletion", Tags: []string{"accounts"}, Auth: true,
		Summary: "Delete your account",
		Description: "Schedules deletion after a grace period and logs out every device. Logging in " +
			"before the date cancels it. Personal data is then removed, except what a legal hold keeps.",
		Request:   deletionRequest{},
		Responses: map[int]openapi.Response{202: {Description: "Deletion is scheduled.", Body: deletionResponse{}}},
	}, handleRequestDeletion(d.Accounts, limit))
	rt.handle(openapi.Operation{Method: "GET", Path: "/api/v1/users/{username}", ID: "getUser", Tags: []string{"accounts"}, Auth: true,
		Summary:   "Look up a user by username",
		Params:    []openapi.Param{{Name: "username", In: "path", Description: "The username, in any letter case.", Schema: ""}},
		Responses: map[int]openapi.Response{200: {Body: publicUser{}}},
	}, handleGetUser(d.Accounts))

	// Anything else under /api/ is a problem+json 404 (see withProblemFallback).
	return spec
}
