package httpapi

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"kurir"
)

// statusOf is the one table from error codes to HTTP statuses.
var statusOf = map[kurir.Code]int{
	kurir.ENotFound:        http.StatusNotFound,
	kurir.EInvalid:         http.StatusBadRequest,
	kurir.EConflict:        http.StatusConflict,
	kurir.EForbidden:       http.StatusForbidden,
	kurir.EUnauthenticated: http.StatusUnauthorized,
	kurir.ERateLimited:     http.StatusTooManyRequests,
	kurir.EUnavailable:     http.StatusServiceUnavailable,
	kurir.ELegal:           http.StatusUnavailableForLegalReasons,
	kurir.EInternal:        http.StatusInternalServerError,
}

// statusOfReason refines statusOf for the few reasons HTTP has a sharper status for.
var statusOfReason = map[string]int{
	reasonBodyTooLarge:    http.StatusRequestEntityTooLarge,
	reasonUnsupportedType: http.StatusUnsupportedMediaType,
	reasonMethod:          http.StatusMethodNotAllowed,
	// A well-formed report whose franking proof does not verify.
	"franking_invalid": http.StatusUnprocessableEntity,
}

// Problem is an RFC 9457 problem details body, sent with every error.
type Problem struct {
	// Type identifies the kind of problem: "urn:kurir:problem:" and the code.
	Type string `json:"type" jsonschema:"description=A URI naming the problem kind: urn:kurir:problem: followed by the code."`
	// Title is the short, fixed summary of the code.
	Title  string `json:"title"`
	Status int    `json:"status"`
	// Detail explains this occurrence, for a person.
	Detail   string `json:"detail"`
	Instance string `json:"instance,omitempty" jsonschema:"description=The request path."`
	// Code is the stable error code clients switch on.
	Code string `json:"code" jsonschema:"enum=not_found,enum=invalid,enum=conflict,enum=forbidden,enum=unauthenticated,enum=rate_limited,enum=unavailable,enum=unavailable_for_legal_reasons,enum=internal"`
	// Reason is a finer stable cause, such as weak_password or account_suspended.
	Reason string `json:"reason,omitempty"`
	// Field is the request field at fault.
	Field string `json:"field,omitempty"`
	// RetryAfter is how many seconds to wait before retrying (also in the Retry-After header).
	RetryAfter int `json:"retry_after,omitempty"`
	// Limit is the bound the request went over (characters for too_long,
	// bytes for too_large and quota_exceeded), for clients that word the
	// refusal themselves.
	Limit int64 `json:"limit,omitempty"`
	// Country is the ISO 3166-1 code of the country whose law withholds the
	// subject (reason withheld_in_country).
	Country   string `json:"country,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

var titles = map[kurir.Code]string{
	kurir.ENotFound:        "Not found",
	kurir.EInvalid:         "Invalid request",
	kurir.EConflict:        "Conflict",
	kurir.EForbidden:       "Forbidden",
	kurir.EUnauthenticated: "Authentication required",
	kurir.ERateLimited:     "Too many requests",
	kurir.EUnavailable:     "Service unavailable",
	kurir.ELegal:           "Unavailable for legal reasons",
	kurir.EInternal:        "Internal error",
}

// notConfigured reports whether e is a deliberate refusal of a feature
// the server was started without: EUnavailable with a reason named no_*
// (no_jurisdictions, no_legal, ...) and no underlying cause. Such a 503 is
// logged at info level, not as a failure.
func notConfigured(e *kurir.Error) bool {
	return e != nil && e.Code == kurir.EUnavailable && strings.HasPrefix(e.Reason, "no_") && e.Err == nil
}

// writeError sends err as problem+json. Internal errors are logged with their
// cause and sent with a generic message, so no detail of the server leaks.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := kurir.ErrorCode(err)
	p := Problem{
		Type:      "urn:kurir:problem:" + string(code),
		Title:     titles[code],
		Code:      string(code),
		Detail:    kurir.ErrorMessage(err),
		Instance:  r.URL.Path,
		RequestID: requestID(r.Context()),
	}
	var e *kurir.Error
	if errors.As(err, &e) {
		p.Reason, p.Field, p.Limit, p.Country = e.Reason, e.Field, e.Limit, e.Country
		if e.RetryAfter > 0 {
			p.RetryAfter = int((e.RetryAfter + 999_999_999) / 1_000_000_000)
			w.Header().Set("Retry-After", strconv.Itoa(p.RetryAfter))
		}
	}
	p.Status = statusOf[code]
	if s, ok := statusOfReason[p.Reason]; ok {
		p.Status = s
	}
	switch {
	case p.Status >= 500 && notConfigured(e):
		// The console asks for every feature; one this server runs
		// without is no fault to wake an operator for.
		if out, ok := r.Context().Value(keyOutcome).(*outcome); ok {
			out.notConfigured = true
		}
	case p.Status >= 500:
		logger(r.Context()).Error("request failed", "err", err)
	case p.Status == http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="kurir"`)
	}
	logger(r.Context()).LogAttrs(r.Context(), slog.LevelDebug, "problem", slog.String("code", p.Code), slog.String("reason", p.Reason))
	writeJSON(w, p.Status, "application/problem+json", p)
}
