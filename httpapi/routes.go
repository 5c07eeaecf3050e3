package httpapi

import (
	"net/http"
	"strings"

	"kurir/jurisdiction"
	"kurir/media"
	"kurir/messaging"
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
		if !admitAnywhere[op.ID] {
			h = rt.admitted(h)
		}
		if roles := staffRoles(op); roles != nil {
			h = withSecondFactor(rt.d.Accounts, roles, h)
		}
		h = withAuth(rt.d.Accounts, h)
	}
	rt.mux.Handle(op.Method+" "+op.Path, rt.m.instrument(op.ID, rt.located(h)))
}

// admitAnywhere are the operations someone in a withdrawn market may still
// use: ending their sessions.
var admitAnywhere = map[string]bool{"revokeSession": true, "logout": true}

// handleRestricted is handle for an operation that a suspended or banned
// account may still use (see account.AuthenticateRestricted): reading the
// decisions about it, appealing them, logging out.
func (rt *router) handleRestricted(op openapi.Operation, h http.Handler) {
	op.Auth = true
	op.Description = strings.TrimSpace(op.Description + " A suspended or banned account may use this too (log in with restricted: true).")
	rt.spec.Add(op)
	if !admitAnywhere[op.ID] {
		h = rt.admitted(h)
	}
	rt.mux.Handle(op.Method+" "+op.Path, rt.m.instrument(op.ID, rt.located(withRestrictedAuth(rt.d.Accounts, h))))
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

	rt.handle(openapi.Operation{Method: "GET", Path: "/api/v1/config", ID: "getConfig", Tags: []string{"server"},
		Summary: "The server's limits that a client should know",
		Description: "What the server would refuse as too long or too large, so that a client can refuse it first, " +
			"before sending anything. Needs no token.",
		Responses: map[int]openapi.Response{200: {Body: clientConfig{}}},
	}, handleConfig(d.Messaging, d.Media))

	// Accounts and sessions.
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/accounts", ID: "register", Tags: []string{"accounts"},
		Summary:   "Create an account",
		Request:   registerRequest{},
		Responses: map[int]openapi.Response{201: {Description: "The new account.", Body: selfView{}}},
	}, handleRegister(rt, d.Accounts, limit))
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/sessions", ID: "login", Tags: []string{"sessions"},
		Summary:     "Log in: open a session on a device",
		Description: "Returns the bearer token for the new session. The token is shown only once.",
		Request:     loginRequest{},
		Responses:   map[int]openapi.Response{201: {Description: "The new session and its token.", Body: loginResponse{}}},
	}, handleLogin(rt, d.Accounts, limit))
	rt.handle(openapi.Operation{Method: "GET", Path: "/api/v1/sessions", ID: "listSessions", Tags: []string{"sessions"}, Auth: true,
		Summary:   "List the devices logged in to your account",
		Responses: map[int]openapi.Response{200: {Body: sessionList{}}},
	}, handleListSessions(d.Accounts))
	rt.handleRestricted(openapi.Operation{Method: "DELETE", Path: "/api/v1/sessions/current", ID: "logout", Tags: []string{"sessions"}, Auth: true,
		Summary:   "Log out this device",
		Responses: map[int]openapi.Response{204: {Description: "Logged out."}},
	}, handleLogout(d.Accounts, d.Live))
	rt.handle(openapi.Operation{Method: "DELETE", Path: "/api/v1/sessions/{id}", ID: "revokeSession", Tags: []string{"sessions"}, Auth: true,
		Summary:   "Log out another device",
		Params:    []openapi.Param{{Name: "id", In: "path", Description: "The session's ID.", Schema: int64(0)}},
		Responses: map[int]openapi.Response{204: {Description: "The device is logged out."}},
	}, handleRevokeSession(d.Accounts, d.Live))
	rt.handleRestricted(openapi.Operation{Method: "GET", Path: "/api/v1/me", ID: "getMe", Tags: []string{"accounts"}, Auth: true,
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
	}, handleChangePassword(d.Accounts, d.Live, limit))
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
	addTOTPRoutes(rt, d.Accounts, limit)

	addMessagingRoutes(rt, d.Messaging, d.Media, limit)
	addMediaRoutes(rt, d.Media, limit)
	addModerationRoutes(rt, d.Moderation, d.Media, d.Clock, limit)
	addBulkRoutes(rt, d.Moderation, limit)
	addJurisdictionRoutes(rt, d.Jurisdiction, d.Messaging, limit)
	addLegalRoutes(rt, d.Legal, limit)
	addSecretRoutes(rt, d.Secret, d.Live, limit)

	// Anything else under /api/ is a problem+json 404 (see withProblemFallback).
	return spec
}

// withWeb serves the web app on every path that is neither under /api/ nor
// one of the API's routes (/healthz, /readyz, /metrics): the web handler
// answers GET and HEAD, and refuses other methods itself. It is a split by
// path rather than a "GET /" pattern on the mux, which would turn a wrong
// method on an unknown /api/ path into a 405 instead of the problem+json
// 404, and a "/" pattern would shadow the API's own 405s.
func withWeb(api *http.ServeMux, web http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := api.Handler(r); pattern != "" || strings.HasPrefix(r.URL.Path, "/api/") {
			api.ServeHTTP(w, r)
			return
		}
		web.ServeHTTP(w, r)
	})
}

// Path parameters shared by the messaging routes.
var (
	chatIDParam = openapi.Param{Name: "id", In: "path", Description: "The chat's ID.", Schema: int64(0)}
	seqParam    = openapi.Param{Name: "seq", In: "path", Description: "The message's sequence number in its chat.", Schema: int64(0)}
	userIDParam = openapi.Param{Name: "user_id", In: "path", Description: "A user's ID.", Schema: int64(0)}
	limitParam  = openapi.Param{Name: "limit", In: "query", Description: "At most this many (capped by the server).", Schema: int64(0)}
)

func addMessagingRoutes(rt *router, msg *messaging.Service, med *media.Service, limit int64) {
	chat := map[int]openapi.Response{200: {Body: chatView{}}}
	done := map[int]openapi.Response{204: {Description: "Done."}}
	tags := []string{"chats"}
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/chats/groups", ID: "createGroup", Tags: tags, Auth: true,
		Summary: "Create a group", Request: newChatRequest{},
		Responses: map[int]openapi.Response{201: {Description: "The new group.", Body: chatView{}}},
	}, handleCreateChat(rt, msg, messaging.Group, limit))
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/chats/channels", ID: "createChannel", Tags: tags, Auth: true,
		Summary: "Create a broadcast channel", Request: newChatRequest{},
		Responses: map[int]openapi.Response{201: {Description: "The new channel.", Body: chatView{}}},
	}, handleCreateChat(rt, msg, messaging.Channel, limit))
	rt.handle(openapi.Operation{Method: "PUT", Path: "/api/v1/users/{user_id}/chat", ID: "openPrivateChat", Tags: tags, Auth: true,
		Summary: "Open the private chat with a user", Description: "Creates it the first time; the other user sees it once it has a message.",
		Params: []openapi.Param{userIDParam}, Responses: chat,
	}, handleOpenPrivate(msg))
	rt.handle(openapi.Operation{Method: "GET", Path: "/api/v1/public-chats/{username}", ID: "getChatByUsername", Tags: tags, Auth: true,
		Summary: "Find a public group or channel by its @name",
		Params:  []openapi.Param{{Name: "username", In: "path", Schema: ""}}, Responses: chat,
	}, rt.feature(jurisdiction.Discovery, handleChatByUsername(msg)))
	rt.handle(openapi.Operation{Method: "GET", Path: "/api/v1/chats/{id}", ID: "getChat", Tags: tags, Auth: true,
		Summary: "A chat you are in, or a public one", Params: []openapi.Param{chatIDParam}, Responses: chat,
	}, handleGetChat(msg))
	rt.handle(openapi.Operation{Method: "GET", Path: "/api/v1/chats/{id}/members", ID: "listMembers", Tags: tags, Auth: true,
		Summary: "A page of a chat's members, by user ID",
		Description: "For members of the chat. A channel's subscribers are listed to its admins; anyone else " +
			"sees its admins. Continue with after= the last user_id.",
		Params:    []openapi.Param{chatIDParam, {Name: "after", In: "query", Description: "The last user_id of the page before.", Schema: int64(0)}, limitParam},
		Responses: map[int]openapi.Response{200: {Body: memberList{}}},
	}, handleListMembers(msg))
	rt.handle(openapi.Operation{Method: "PATCH", Path: "/api/v1/chats/{id}", ID: "editChat", Tags: tags, Auth: true,
		Summary: "Change a group's or channel's title, description or member permissions",
		Params:  []openapi.Param{chatIDParam}, Request: chatInfoRequest{}, Responses: chat,
	}, handleEditChat(msg, limit))
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/chats/{id}/join", ID: "joinChat", Tags: tags, Auth: true,
		Summary: "Join a public group or subscribe to a public channel", Params: []openapi.Param{chatIDParam}, Responses: chat,
	}, handleJoin(msg))
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/chats/{id}/leave", ID: "leaveChat", Tags: tags, Auth: true,
		Summary: "Leave a group or unsubscribe from a channel", Params: []openapi.Param{chatIDParam}, Responses: done,
	}, handleLeave(msg))
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/chats/{id}/members", ID: "addMembers", Tags: tags, Auth: true,
		Summary: "Add people to a group", Params: []openapi.Param{chatIDParam}, Request: addMembersRequest{}, Responses: done,
	}, handleAddMembers(msg, limit))
	rt.handle(openapi.Operation{Method: "DELETE", Path: "/api/v1/chats/{id}/members/{user_id}", ID: "removeMember", Tags: tags, Auth: true,
		Summary: "Remove someone from a group or channel; with ban=true they cannot rejoin",
		Params:  []openapi.Param{chatIDParam, userIDParam, {Name: "ban", In: "query", Schema: false}}, Responses: done,
	}, handleRemoveMember(msg))
	rt.handle(openapi.Operation{Method: "PUT", Path: "/api/v1/chats/{id}/members/{user_id}/role", ID: "setMemberRole", Tags: tags, Auth: true,
		Summary: "Make a member owner, admin or member (owners only)",
		Params:  []openapi.Param{chatIDParam, userIDParam}, Request: roleRequest{}, Responses: done,
	}, handleSetRole(msg, limit))
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/chats/{id}/invites", ID: "createInvite", Tags: tags, Auth: true,
		Summary: "Create an invite link", Params: []openapi.Param{chatIDParam}, Request: inviteRequest{},
		Responses: map[int]openapi.Response{201: {Body: inviteView{}}},
	}, handleCreateInvite(msg, limit))
	rt.handle(openapi.Operation{Method: "DELETE", Path: "/api/v1/invites/{code}", ID: "revokeInvite", Tags: tags, Auth: true,
		Summary: "Revoke an invite link", Params: []openapi.Param{{Name: "code", In: "path", Schema: ""}}, Responses: done,
	}, handleRevokeInvite(msg))
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/invites/{code}/join", ID: "joinByInvite", Tags: tags, Auth: true,
		Summary: "Join the chat an invite link points to", Params: []openapi.Param{{Name: "code", In: "path", Schema: ""}}, Responses: chat,
	}, handleJoinByInvite(msg))
	rt.handle(openapi.Operation{Method: "GET", Path: "/api/v1/me/blocked", ID: "listBlocked", Tags: []string{"accounts"}, Auth: true,
		Summary:     "A page of the people you blocked, by user ID",
		Description: "Continue with after= the last user_id.",
		Params:      []openapi.Param{{Name: "after", In: "query", Description: "The last user_id of the page before.", Schema: int64(0)}, limitParam},
		Responses:   map[int]openapi.Response{200: {Body: blockedList{}}},
	}, handleListBlocked(msg))
	rt.handle(openapi.Operation{Method: "PUT", Path: "/api/v1/users/{user_id}/block", ID: "blockUser", Tags: []string{"accounts"}, Auth: true,
		Summary: "Stop a user from messaging you in private", Params: []openapi.Param{userIDParam}, Responses: done,
	}, handleBlock(msg, true))
	rt.handle(openapi.Operation{Method: "DELETE", Path: "/api/v1/users/{user_id}/block", ID: "unblockUser", Tags: []string{"accounts"}, Auth: true,
		Summary: "Let a blocked user message you again", Params: []openapi.Param{userIDParam}, Responses: done,
	}, handleBlock(msg, false))

	mtags := []string{"messages"}
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/chats/{id}/messages", ID: "sendMessage", Tags: mtags, Auth: true,
		Summary:     "Send a message",
		Description: "Answers once the message is stored. Retrying with the same idempotency_key returns the original message.",
		Params:      []openapi.Param{chatIDParam}, Request: sendRequest{},
		Responses: map[int]openapi.Response{201: {Description: "The message as stored.", Body: messageView{}}},
	}, handleSend(msg, med, limit))
	rt.handle(openapi.Operation{Method: "GET", Path: "/api/v1/chats/{id}/messages", ID: "listMessages", Tags: mtags, Auth: true,
		Summary: "A page of a chat's history",
		Description: "Without before or after: the newest messages, newest first. before=SEQ: older ones, newest first. " +
			"after=SEQ: newer ones, oldest first.",
		Params:    []openapi.Param{chatIDParam, {Name: "before", In: "query", Schema: int64(0)}, {Name: "after", In: "query", Schema: int64(0)}, limitParam},
		Responses: map[int]openapi.Response{200: {Body: messageList{}}},
	}, handleHistory(msg))
	rt.handle(openapi.Operation{Method: "PATCH", Path: "/api/v1/chats/{id}/messages/{seq}", ID: "editMessage", Tags: mtags, Auth: true,
		Summary: "Edit your message", Params: []openapi.Param{chatIDParam, seqParam}, Request: editRequest{},
		Responses: map[int]openapi.Response{200: {Body: messageView{}}},
	}, handleEdit(msg, limit))
	rt.handle(openapi.Operation{Method: "DELETE", Path: "/api/v1/chats/{id}/messages/{seq}", ID: "deleteMessage", Tags: mtags, Auth: true,
		Summary: "Delete a message for everyone (default) or, with for=me, only for yourself",
		Params:  []openapi.Param{chatIDParam, seqParam, {Name: "for", In: "query", Schema: ""}}, Responses: done,
	}, handleDeleteMessage(msg))
	rt.handle(openapi.Operation{Method: "PUT", Path: "/api/v1/chats/{id}/pin", ID: "pinMessage", Tags: mtags, Auth: true,
		Summary: "Pin a message (seq 0 unpins)", Params: []openapi.Param{chatIDParam}, Request: seqRequest{}, Responses: done,
	}, handlePin(msg, limit))
	rt.handle(openapi.Operation{Method: "PUT", Path: "/api/v1/chats/{id}/read", ID: "markRead", Tags: mtags, Auth: true,
		Summary: "Mark the chat read up to seq", Params: []openapi.Param{chatIDParam}, Request: seqRequest{}, Responses: done,
	}, handleMarkRead(msg, limit))
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/chats/{id}/views", ID: "recordViews", Tags: mtags, Auth: true,
		Summary:     "Count the posts of a channel or large group that your device showed",
		Description: "Each user counts once per message; seqs of deleted messages, of missing ones and of messages older than a week are skipped. Smaller groups and private chats count no views.",
		Params:      []openapi.Param{chatIDParam}, Request: viewsRequest{}, Responses: map[int]openapi.Response{200: {Body: viewsCounted{}}},
	}, handleViews(msg, limit))

	qParam := openapi.Param{Name: "q", In: "query", Required: true, Description: "What to look for.", Schema: ""}
	rt.handle(openapi.Operation{Method: "GET", Path: "/api/v1/search/chats", ID: "searchChats", Tags: []string{"search"}, Auth: true,
		Summary: "Find public groups and channels by title or @name",
		Params:  []openapi.Param{qParam, limitParam}, Responses: map[int]openapi.Response{200: {Body: chatList{}}},
	}, rt.feature(jurisdiction.Discovery, handleSearchChats(msg)))
	rt.handle(openapi.Operation{Method: "GET", Path: "/api/v1/search/messages", ID: "searchMessages", Tags: []string{"search"}, Auth: true,
		Summary: "Find messages containing every word of q, newest first",
		Description: "In one chat you can read (chat_id), or in all the chats you are a member of. Words match whole, " +
			"ignoring letter case.",
		Params:    []openapi.Param{qParam, {Name: "chat_id", In: "query", Schema: int64(0)}, limitParam},
		Responses: map[int]openapi.Response{200: {Body: messageList{}}},
	}, handleSearchMessages(msg))

	stags := []string{"sync"}
	rt.handle(openapi.Operation{Method: "GET", Path: "/api/v1/dialogs", ID: "listDialogs", Tags: stags, Auth: true,
		Summary:   "Your chat list, most recently active first",
		Params:    []openapi.Param{{Name: "cursor", In: "query", Schema: ""}, limitParam},
		Responses: map[int]openapi.Response{200: {Body: dialogList{}}},
	}, handleDialogs(msg))
	rt.handle(openapi.Operation{Method: "GET", Path: "/api/v1/updates", ID: "getUpdates", Tags: stags, Auth: true,
		Summary:     "What changed in your private chats and small groups after pts",
		Description: "A gap-free list of changes numbered by your own pts. Large groups and channels are synced per chat.",
		Params:      []openapi.Param{{Name: "pts", In: "query", Schema: int64(0)}, limitParam},
		Responses:   map[int]openapi.Response{200: {Body: updatesView{}}},
	}, handleUpdates(msg))
	rt.handle(openapi.Operation{Method: "GET", Path: "/api/v1/updates/state", ID: "getSyncState", Tags: stags, Auth: true,
		Summary:   "Where to start syncing: your pts and your large chats' seqs",
		Responses: map[int]openapi.Response{200: {Body: syncStateView{}}},
	}, handleSyncState(msg))
	rt.handle(openapi.Operation{Method: "GET", Path: "/api/v1/live", ID: "live", Tags: stags, Auth: true,
		Summary: "The live update stream (WebSocket)",
		Description: "Upgrade to a WebSocket with subprotocol kurir.v1. A browser, which cannot set the Authorization " +
			"header, offers its token as a second subprotocol, kurir.token.<token>. The server sends JSON text frames: " +
			"first {\"type\":\"hello\",\"pts\":N,\"large_chats\":[...]}; then {\"type\":\"update\",\"pts\":N,\"event\":{...}} " +
			"for private chats and small groups, and {\"type\":\"chat_event\",\"event\":{...}} for large groups and channels, " +
			"with events as in GET /api/v1/updates. A pts or seq that skips a number means a gap: fetch the missing changes. " +
			"{\"type\":\"resync\",\"reason\":...} (close code 4000) means the server dropped events for this device: " +
			"sync, then reconnect. The device may send {\"type\":\"ping\"} and gets {\"type\":\"pong\"}.",
		Responses: map[int]openapi.Response{101: {Description: "Switching to the WebSocket live stream."}},
	}, handleLive(rt.d.Live, msg))
	rt.handle(openapi.Operation{Method: "GET", Path: "/api/v1/chats/{id}/updates", ID: "getChatUpdates", Tags: stags, Auth: true,
		Summary:   "What changed in a chat after seq",
		Params:    []openapi.Param{chatIDParam, {Name: "seq", In: "query", Schema: int64(0)}, limitParam},
		Responses: map[int]openapi.Response{200: {Body: chatUpdates{}}},
	}, handleChatUpdates(msg))
}
