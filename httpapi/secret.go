package httpapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"

	"kurir"
	"kurir/moderation"
	"kurir/openapi"
	"kurir/realtime"
	"kurir/secret"
	"kurir/secret/franking"
	"kurir/secret/protocol"
)

// This file is the secret-chat API (kurir/secret) under /api/v1/secret, as
// docs/secret-chats.md ("Server API") specifies it: a device publishes its
// keys, others claim prekey bundles and send it envelopes, it fetches and
// acknowledges them, and it may report a message it received with a
// franking proof. A device is the session the bearer token belongs to.
// Byte strings are standard base64 with padding.

// Live frames that nudge one device (see realtime.Hub.NotifyDevice).
const (
	frameSecret        = "secret"          // envelopes wait: fetch them
	frameSecretKeysLow = "secret_keys_low" // one-time prekeys run low: upload more
)

// Request body limits of the secret-chat API: a send may carry the largest
// envelopes, and a report the largest revealed text. The other requests
// take the server's usual limit.
const (
	maxSendBody   = secret.MaxEnvelopesPerSend*(4*((secret.MaxBodySize+2)/3)+512) + 64<<10
	maxReportBody = franking.MaxReportSize + 16<<10
)

// noSecret is the answer of a server run without secret chats (Deps.Secret nil).
var noSecret = &kurir.Error{Code: kurir.EUnavailable, Reason: "no_secret",
	Message: "This server does not run secret chats."}

// device is the device a request comes from: its account session.
func device(r *http.Request) secret.Device {
	p := principal(r.Context())
	return secret.Device{User: p.User.ID, ID: p.SessionID}
}

// secretOp answers an operation of the secret-chat API, or 503 on a server
// without it.
func secretOp(svc *secret.Service, fn func(w http.ResponseWriter, r *http.Request, svc *secret.Service)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if svc == nil {
			writeError(w, r, noSecret)
			return
		}
		fn(w, r, svc)
	})
}

// nudge tells a device's live sessions, on every node, to fetch.
func nudge(ctx context.Context, hub *realtime.Hub, d secret.Device, frame string) {
	if hub != nil {
		hub.NotifyDevice(ctx, d.User, d.ID, frame)
	}
}

// b64 encodes bytes as the API does: standard base64 with padding.
func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// unb64 decodes a standard base64 field (padded, canonical) of exactly n
// bytes, or of at most max bytes when n is 0.
func unb64(field, s string, n, max int) ([]byte, error) {
	if n > 0 && len(s) != base64.StdEncoding.EncodedLen(n) {
		return nil, kurir.Invalid(field, "invalid_length", "%s must be %d bytes: %d characters of standard base64.", field, n, base64.StdEncoding.EncodedLen(n))
	}
	if n == 0 && base64.StdEncoding.DecodedLen(len(s)) > max+2 {
		return nil, kurir.Invalid(field, "too_large", "%s is larger than %d bytes.", field, max)
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, kurir.Invalid(field, "invalid_base64", "%s is not standard base64 with padding.", field)
	}
	if (n > 0 && len(b) != n) || (n == 0 && len(b) > max) {
		return nil, kurir.Invalid(field, "invalid_length", "%s has the wrong length.", field)
	}
	return b, nil
}

// Views and requests.

type secretPreKey struct {
	ID  int64  `json:"id" jsonschema:"minimum=0,maximum=4294967295"`
	Key string `json:"key" jsonschema:"description=The X25519 public key (32 bytes)."`
}

type secretSignedPreKey struct {
	ID        int64  `json:"id" jsonschema:"minimum=0,maximum=4294967295"`
	Key       string `json:"key" jsonschema:"description=The X25519 public key (32 bytes)."`
	Signature string `json:"signature" jsonschema:"description=Ed25519 signature (64 bytes) by the identity's signing key over \"kurir secret chat v1 signed prekey\" || identity X25519 key || u32(id) || key."`
}

type secretKeysRequest struct {
	Identity       string             `json:"identity" jsonschema:"description=The identity: its X25519 public key then its Ed25519 public key (64 bytes)."`
	SignedPreKey   secretSignedPreKey `json:"signed_prekey"`
	OneTimePreKeys []secretPreKey     `json:"one_time_prekeys,omitempty" jsonschema:"maxItems=100"`
}

type secretOneTimeRequest struct {
	OneTimePreKeys []secretPreKey `json:"one_time_prekeys" jsonschema:"maxItems=100"`
}

type secretKeyStatus struct {
	Registered     bool       `json:"registered" jsonschema:"description=The device has published its keys."`
	Identity       string     `json:"identity,omitempty"`
	SignedPreKeyID int64      `json:"signed_prekey_id"`
	SignedPreKeyAt *time.Time `json:"signed_prekey_at,omitempty" jsonschema:"description=When the current signed prekey was published."`
	OneTimePreKeys int        `json:"one_time_prekeys" jsonschema:"description=Unclaimed one-time prekeys the server holds for this device."`
	Replenish      bool       `json:"replenish" jsonschema:"description=Fewer than 20 are left: upload more."`
}

func newSecretKeyStatus(st secret.KeyStatus) secretKeyStatus {
	v := secretKeyStatus{Registered: st.Registered, OneTimePreKeys: st.OneTimePreKeys, Replenish: st.Replenish}
	if st.Registered {
		v.Identity = b64(append(st.Identity.DH[:], st.Identity.Sign[:]...))
		v.SignedPreKeyID = int64(st.SignedPreKeyID)
		v.SignedPreKeyAt = optTime(st.SignedPreKeyAt)
	}
	return v
}

type secretDeviceView struct {
	DeviceID  int64     `json:"device_id"`
	Identity  string    `json:"identity" jsonschema:"description=The device's identity (64 bytes): compare safety numbers to trust it."`
	UpdatedAt time.Time `json:"updated_at" jsonschema:"description=When the device last changed its keys."`
}

type secretDeviceList struct {
	Devices []secretDeviceView `json:"devices"`
}

type secretClaimRequest struct {
	Devices []int64 `json:"devices,omitempty" jsonschema:"maxItems=100,description=Claim only for these devices (default: every device of the user but this one)."`
}

type secretBundleView struct {
	DeviceID int64  `json:"device_id"`
	Bundle   string `json:"bundle" jsonschema:"description=The prekey bundle in the protocol's encoding (166 bytes\\, or 202 with a one-time prekey). Verify it before use."`
}

type secretBundleList struct {
	Bundles []secretBundleView `json:"bundles"`
}

type secretOutgoing struct {
	UserID     int64  `json:"user_id"`
	DeviceID   int64  `json:"device_id"`
	Body       string `json:"body" jsonschema:"description=The envelope body: 0x01 || initial header || ratchet message\\, or 0x02 || ratchet message (at most 1 MiB + 256 bytes)."`
	Commitment string `json:"commitment" jsonschema:"description=The franking commitment to the message's text (32 bytes)."`
	ClientID   string `json:"client_id" jsonschema:"minLength=1,maxLength=64,description=Unique among this device's sends: a retry with the same client_id answers the first result."`
}

type secretSendRequest struct {
	Envelopes []secretOutgoing `json:"envelopes" jsonschema:"minItems=1,maxItems=20"`
}

type secretSentView struct {
	ID       string `json:"id"`
	UserID   int64  `json:"user_id"`
	DeviceID int64  `json:"device_id"`
	AtUS     int64  `json:"at_us" jsonschema:"description=When the server stored it\\, in microseconds since the Unix epoch."`
	Tag      string `json:"tag" jsonschema:"description=The server's franking tag (33 bytes)."`
}

type secretSentList struct {
	Envelopes []secretSentView `json:"envelopes"`
}

type secretEnvelopeView struct {
	ID           string `json:"id"`
	Sender       int64  `json:"sender"`
	SenderDevice int64  `json:"sender_device"`
	Body         string `json:"body"`
	Commitment   string `json:"commitment"`
	Tag          string `json:"tag" jsonschema:"description=The server's franking tag (33 bytes): keep it with the message to be able to report it."`
	AtUS         int64  `json:"at_us"`
}

type secretEnvelopeList struct {
	Envelopes []secretEnvelopeView `json:"envelopes"`
}

type secretAckRequest struct {
	IDs []string `json:"ids" jsonschema:"maxItems=500"`
}

// secretFrankingReport is a franking report in the JSON encoding of
// kurir/secret/franking. Its fields document the format for the OpenAPI
// document; UnmarshalJSON keeps the bytes, which the franking package's
// strict decoder then reads.
type secretFrankingReport struct {
	V               int    `json:"v" jsonschema:"enum=1"`
	Plaintext       string `json:"plaintext" jsonschema:"description=The message's text as it was displayed."`
	FrankingKey     string `json:"franking_key" jsonschema:"description=The franking key from the message's payload (32 bytes)."`
	Commitment      string `json:"commitment" jsonschema:"description=The envelope's commitment (32 bytes)."`
	Tag             string `json:"tag" jsonschema:"description=The envelope's tag (33 bytes)."`
	Sender          int64  `json:"sender"`
	SenderDevice    int64  `json:"sender_device"`
	Recipient       int64  `json:"recipient"`
	RecipientDevice int64  `json:"recipient_device"`
	AtUS            int64  `json:"at_us"`
	Envelope        string `json:"envelope" jsonschema:"description=The envelope's ID."`

	raw []byte
}

// UnmarshalJSON keeps a copy of the report's JSON.
func (f *secretFrankingReport) UnmarshalJSON(b []byte) error {
	f.raw = bytes.Clone(b)
	return nil
}

type secretReportRequest struct {
	Report  secretFrankingReport `json:"report"`
	Reason  string               `json:"reason" jsonschema:"description=One of the ids from GET /api/v1/report-reasons."`
	Comment string               `json:"comment,omitempty" jsonschema:"maxLength=500,description=Anything the moderators should know (at most 500 characters)."`
}

// Decoding requests into the service's types.

func preKeyID(field string, id int64) (uint32, error) {
	if id < 0 || id > math.MaxUint32 {
		return 0, kurir.Invalid(field, "invalid_id", "%s must be a whole number from 0 to 4294967295.", field)
	}
	return uint32(id), nil
}

func (p secretPreKey) decode(field string) (protocol.PreKey, error) {
	var k protocol.PreKey
	id, err := preKeyID(field+".id", p.ID)
	if err != nil {
		return k, err
	}
	key, err := unb64(field+".key", p.Key, 32, 0)
	if err != nil {
		return k, err
	}
	k.ID = id
	copy(k.Key[:], key)
	return k, nil
}

func decodePreKeys(list []secretPreKey) ([]protocol.PreKey, error) {
	if len(list) > secret.MaxPreKeysPerCall {
		return nil, kurir.Invalid("one_time_prekeys", "too_many", "Upload at most %d one-time prekeys at a time, not %d.", secret.MaxPreKeysPerCall, len(list))
	}
	out := make([]protocol.PreKey, len(list))
	for i, p := range list {
		k, err := p.decode("one_time_prekeys[" + strconv.Itoa(i) + "]")
		if err != nil {
			return nil, err
		}
		out[i] = k
	}
	return out, nil
}

// keys turns a PUT /keys request into the keys it publishes.
func (req secretKeysRequest) keys() (secret.Keys, error) {
	var k secret.Keys
	id, err := unb64("identity", req.Identity, 64, 0)
	if err != nil {
		return k, err
	}
	copy(k.Identity.DH[:], id[:32])
	copy(k.Identity.Sign[:], id[32:])
	spk, err := secretPreKey{ID: req.SignedPreKey.ID, Key: req.SignedPreKey.Key}.decode("signed_prekey")
	if err != nil {
		return k, err
	}
	k.SignedPreKey = spk
	sig, err := unb64("signed_prekey.signature", req.SignedPreKey.Signature, 64, 0)
	if err != nil {
		return k, err
	}
	copy(k.Signature[:], sig)
	k.OneTime, err = decodePreKeys(req.OneTimePreKeys)
	return k, err
}

// outgoing turns a send request into the envelopes it sends.
func (req secretSendRequest) outgoing() ([]secret.Outgoing, error) {
	if len(req.Envelopes) > secret.MaxEnvelopesPerSend {
		return nil, kurir.Invalid("envelopes", "too_many", "Send at most %d envelopes at a time, not %d.", secret.MaxEnvelopesPerSend, len(req.Envelopes))
	}
	out := make([]secret.Outgoing, len(req.Envelopes))
	for i, e := range req.Envelopes {
		field := "envelopes[" + strconv.Itoa(i) + "]"
		body, err := unb64(field+".body", e.Body, 0, secret.MaxBodySize)
		if err != nil {
			return nil, err
		}
		c, err := unb64(field+".commitment", e.Commitment, franking.CommitmentSize, 0)
		if err != nil {
			return nil, err
		}
		out[i] = secret.Outgoing{To: secret.Device{User: kurir.UserID(e.UserID), ID: e.DeviceID}, Body: body, ClientID: e.ClientID}
		copy(out[i].Commitment[:], c)
	}
	return out, nil
}

// report decodes the franking report of a report request.
func (req secretReportRequest) report() (franking.Report, error) {
	r, err := franking.DecodeReport(bytes.NewReader(req.Report.raw))
	if err != nil {
		var e *kurir.Error
		if errors.As(err, &e) {
			e.Field = "report." + e.Field
			if e.Field == "report." {
				e.Field = "report"
			}
		}
		return franking.Report{}, err
	}
	return r, nil
}

// Handlers.

func handlePublishKeys(svc *secret.Service, limit int64) http.Handler {
	return secretOp(svc, func(w http.ResponseWriter, r *http.Request, svc *secret.Service) {
		req, err := decode[secretKeysRequest](r, limit)
		if err != nil {
			writeError(w, r, err)
			return
		}
		keys, err := req.keys()
		if err != nil {
			writeError(w, r, err)
			return
		}
		st, err := svc.PublishKeys(r.Context(), device(r), keys)
		if err != nil {
			writeError(w, r, err)
			return
		}
		encode(w, http.StatusOK, newSecretKeyStatus(st))
	})
}

func handleAddPreKeys(svc *secret.Service, limit int64) http.Handler {
	return secretOp(svc, func(w http.ResponseWriter, r *http.Request, svc *secret.Service) {
		req, err := decode[secretOneTimeRequest](r, limit)
		if err != nil {
			writeError(w, r, err)
			return
		}
		keys, err := decodePreKeys(req.OneTimePreKeys)
		if err != nil {
			writeError(w, r, err)
			return
		}
		st, err := svc.AddPreKeys(r.Context(), device(r), keys)
		if err != nil {
			writeError(w, r, err)
			return
		}
		encode(w, http.StatusOK, newSecretKeyStatus(st))
	})
}

func handleKeyStatus(svc *secret.Service) http.Handler {
	return secretOp(svc, func(w http.ResponseWriter, r *http.Request, svc *secret.Service) {
		st, err := svc.KeyStatus(r.Context(), device(r))
		if err != nil {
			writeError(w, r, err)
			return
		}
		encode(w, http.StatusOK, newSecretKeyStatus(st))
	})
}

// pathUser reads the {user_id} path parameter.
func pathUser(r *http.Request) (kurir.UserID, error) {
	id, err := strconv.ParseInt(r.PathValue("user_id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, kurir.Invalid("user_id", "invalid_id", "The user ID %q is not a number.", r.PathValue("user_id"))
	}
	return kurir.UserID(id), nil
}

func handleSecretDevices(svc *secret.Service) http.Handler {
	return secretOp(svc, func(w http.ResponseWriter, r *http.Request, svc *secret.Service) {
		user, err := pathUser(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		list, err := svc.Devices(r.Context(), user)
		if err != nil {
			writeError(w, r, err)
			return
		}
		out := secretDeviceList{Devices: make([]secretDeviceView, len(list))}
		for i, d := range list {
			out.Devices[i] = secretDeviceView{DeviceID: d.Device, Identity: b64(append(d.Identity.DH[:], d.Identity.Sign[:]...)), UpdatedAt: d.UpdatedAt}
		}
		encode(w, http.StatusOK, out)
	})
}

func handleClaimBundles(svc *secret.Service, hub *realtime.Hub, limit int64) http.Handler {
	return secretOp(svc, func(w http.ResponseWriter, r *http.Request, svc *secret.Service) {
		user, err := pathUser(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		var req secretClaimRequest
		if r.ContentLength != 0 { // no body: every device
			if req, err = decode[secretClaimRequest](r, limit); err != nil {
				writeError(w, r, err)
				return
			}
		}
		claim, err := svc.Claim(r.Context(), device(r), user, req.Devices)
		if err != nil {
			writeError(w, r, err)
			return
		}
		out := secretBundleList{Bundles: make([]secretBundleView, len(claim.Bundles))}
		for i, b := range claim.Bundles {
			enc, err := b.Bundle.MarshalBinary()
			if err != nil {
				writeError(w, r, err)
				return
			}
			out.Bundles[i] = secretBundleView{DeviceID: b.Device, Bundle: b64(enc)}
		}
		for _, d := range claim.Low {
			nudge(r.Context(), hub, d, frameSecretKeysLow)
		}
		encode(w, http.StatusOK, out)
	})
}

func handleSendEnvelopes(svc *secret.Service, hub *realtime.Hub) http.Handler {
	return secretOp(svc, func(w http.ResponseWriter, r *http.Request, svc *secret.Service) {
		req, err := decode[secretSendRequest](r, maxSendBody)
		if err != nil {
			writeError(w, r, err)
			return
		}
		out, err := req.outgoing()
		if err != nil {
			writeError(w, r, err)
			return
		}
		sent, err := svc.Send(r.Context(), device(r), out)
		if err != nil {
			writeError(w, r, err)
			return
		}
		list := secretSentList{Envelopes: make([]secretSentView, len(sent))}
		nudged := map[secret.Device]bool{}
		for i, s := range sent {
			list.Envelopes[i] = secretSentView{ID: s.ID, UserID: int64(s.To.User), DeviceID: s.To.ID, AtUS: s.At.UnixMicro(), Tag: b64(s.Tag[:])}
			if s.Stored && !nudged[s.To] {
				nudged[s.To] = true
				nudge(r.Context(), hub, s.To, frameSecret)
			}
		}
		encode(w, http.StatusCreated, list)
	})
}

func handleFetchEnvelopes(svc *secret.Service) http.Handler {
	return secretOp(svc, func(w http.ResponseWriter, r *http.Request, svc *secret.Service) {
		limit, err := queryInt(r, "limit", secret.DefaultFetch)
		if err != nil {
			writeError(w, r, err)
			return
		}
		list, err := svc.Pending(r.Context(), device(r), int(min(limit, secret.MaxFetch)))
		if err != nil {
			writeError(w, r, err)
			return
		}
		out := secretEnvelopeList{Envelopes: make([]secretEnvelopeView, len(list))}
		for i, e := range list {
			out.Envelopes[i] = secretEnvelopeView{ID: e.ID, Sender: int64(e.From.User), SenderDevice: e.From.ID, Body: b64(e.Body),
				Commitment: b64(e.Commitment[:]), Tag: b64(e.Tag[:]), AtUS: e.At.UnixMicro()}
		}
		encode(w, http.StatusOK, out)
	})
}

func handleAckEnvelopes(svc *secret.Service, limit int64) http.Handler {
	return secretOp(svc, func(w http.ResponseWriter, r *http.Request, svc *secret.Service) {
		req, err := decode[secretAckRequest](r, limit)
		if err != nil {
			writeError(w, r, err)
			return
		}
		if _, err := svc.Ack(r.Context(), device(r), req.IDs); err != nil {
			writeError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func handleSecretReport(svc *secret.Service) http.Handler {
	return secretOp(svc, func(w http.ResponseWriter, r *http.Request, svc *secret.Service) {
		req, err := decode[secretReportRequest](r, maxReportBody)
		if err != nil {
			writeError(w, r, err)
			return
		}
		rep, err := req.report()
		if err != nil {
			writeError(w, r, err)
			return
		}
		filed, err := svc.Report(r.Context(), device(r), rep, moderation.Category(req.Reason), req.Comment)
		if err != nil {
			writeError(w, r, err)
			return
		}
		encode(w, http.StatusCreated, newReportView(filed))
	})
}

func addSecretRoutes(rt *router, svc *secret.Service, hub *realtime.Hub, limit int64) {
	tags := []string{"secret chats"}
	status := map[int]openapi.Response{200: {Description: "This device's keys now.", Body: secretKeyStatus{}}}
	user := openapi.Param{Name: "user_id", In: "path", Description: "The user's ID.", Schema: int64(0)}
	rt.handle(openapi.Operation{Method: "PUT", Path: "/api/v1/secret/keys", ID: "publishSecretKeys", Tags: tags, Auth: true,
		Summary: "Publish this device's secret-chat keys",
		Description: "The server verifies the signed prekey's signature and refuses low-order points. The same identity " +
			"again replaces the signed prekey and adds the one-time prekeys; another identity is a reinstall, which drops " +
			"the device's one-time prekeys and pending envelopes. A one-time prekey ID already held with another key is " +
			"refused (409 secret_prekey_id_taken); the same ID and key again is a retry and is skipped.",
		Request: secretKeysRequest{}, Responses: status,
	}, handlePublishKeys(svc, limit))
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/secret/keys/one-time", ID: "addOneTimePrekeys", Tags: tags, Auth: true,
		Summary:     "Add one-time prekeys",
		Description: "At most 100 per call and 500 unclaimed in all (409 secret_too_many_prekeys). Publish the keys first (409 secret_not_registered).",
		Request:     secretOneTimeRequest{}, Responses: status,
	}, handleAddPreKeys(svc, limit))
	rt.handle(openapi.Operation{Method: "GET", Path: "/api/v1/secret/keys", ID: "getSecretKeys", Tags: tags, Auth: true,
		Summary: "This device's secret-chat keys: whether published, and how many one-time prekeys are left", Responses: status,
	}, handleKeyStatus(svc))
	rt.handle(openapi.Operation{Method: "GET", Path: "/api/v1/secret/users/{user_id}/devices", ID: "listSecretDevices", Tags: tags, Auth: true,
		Summary: "A user's devices that have published secret-chat keys", Params: []openapi.Param{user},
		Responses: map[int]openapi.Response{200: {Body: secretDeviceList{}}},
	}, handleSecretDevices(svc))
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/secret/users/{user_id}/bundles", ID: "claimPrekeyBundles", Tags: tags, Auth: true,
		Summary: "Claim a prekey bundle for each of a user's devices",
		Description: "For every device of the user but this one, or those named. Each bundle takes one one-time prekey, " +
			"which is never handed out again; a device with none left gives a bundle without one. Claims are rate-limited " +
			"per user (429 too_many_claims). A device left with fewer than 20 is sent {\"type\":\"secret_keys_low\"} live.",
		Params: []openapi.Param{user}, Request: secretClaimRequest{},
		Responses: map[int]openapi.Response{200: {Body: secretBundleList{}}},
	}, handleClaimBundles(svc, hub, limit))
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/secret/envelopes", ID: "sendEnvelopes", Tags: tags, Auth: true,
		Summary: "Send envelopes to devices",
		Description: "All are stored, or none. Each is stamped with the server's franking tag over its commitment, sender " +
			"and device, recipient and device, at_us and id. A retry with a client_id this device used in the last 24 hours " +
			"answers the first result and stores nothing (409 secret_client_id_reused if the recipient or commitment differ). " +
			"The recipients' live sessions get {\"type\":\"secret\"}.",
		Request:   secretSendRequest{},
		Responses: map[int]openapi.Response{201: {Description: "Stored.", Body: secretSentList{}}},
	}, handleSendEnvelopes(svc, hub))
	rt.handle(openapi.Operation{Method: "GET", Path: "/api/v1/secret/envelopes", ID: "fetchEnvelopes", Tags: tags, Auth: true,
		Summary: "This device's envelopes, oldest first, until acknowledged",
		Description: "At most limit (default 100, at most 500), and fewer when their bodies pass 8 MiB: fetch again after " +
			"acknowledging. Envelopes unacknowledged for the relay's TTL are deleted.",
		Params:    []openapi.Param{limitParam},
		Responses: map[int]openapi.Response{200: {Body: secretEnvelopeList{}}},
	}, handleFetchEnvelopes(svc))
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/secret/envelopes/ack", ID: "ackEnvelopes", Tags: tags, Auth: true,
		Summary:     "Acknowledge envelopes: the server deletes them",
		Description: "IDs that are not this device's, or no longer there, are ignored.",
		Request:     secretAckRequest{}, Responses: map[int]openapi.Response{204: {Description: "Deleted."}},
	}, handleAckEnvelopes(svc, limit))
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/secret/reports", ID: "reportSecretMessage", Tags: tags, Auth: true,
		Summary: "Report a secret-chat message with its franking proof",
		Description: "The server checks that the commitment opens to the revealed text and that the tag is its own for " +
			"exactly that sender, recipient, time and envelope, and that this device is the recipient (403 " +
			"secret_not_recipient); a proof that does not verify is refused with 422 franking_invalid and nothing is filed. " +
			"It then files a report about the sender, with the revealed text as evidence.",
		Request:   secretReportRequest{},
		Responses: map[int]openapi.Response{201: {Description: "The report, with its case.", Body: reportView{}}},
	}, handleSecretReport(svc))
}
