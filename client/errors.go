package client

import (
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"kurir"
)

// Error is a response with a status outside 2xx. From a kurir server it is
// an RFC 9457 problem, whose members fill the fields; from anything else (a
// proxy's HTML error page, say) Status is still right, Code is the one the
// API uses for that status (none for a 1xx or 3xx), and Detail holds the
// start of the body.
type Error struct {
	// Status is the HTTP status code.
	Status int
	// Code is the stable error code to switch on, such as kurir.ENotFound.
	Code kurir.Code
	// Reason is a finer stable cause within Code, such as "weak_password"; optional.
	Reason string
	// Field names the request field at fault, for kurir.EInvalid; optional.
	Field string
	// Detail explains the problem to a person.
	Detail string
	// RetryAfter is how long the server asks the caller to wait before
	// retrying (from the problem's retry_after or the Retry-After header),
	// or 0 if it did not say.
	RetryAfter time.Duration
	// RequestID identifies the request in the server's logs.
	RequestID string
	// Method and Path are the request's, such as "GET" and "/api/v1/me".
	Method, Path string
}

// Error returns a one-line description naming the request, the status, the
// code and the detail, and the reason, field and request ID when present.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("client: ")
	b.WriteString(e.Method)
	b.WriteByte(' ')
	b.WriteString(e.Path)
	b.WriteString(": ")
	b.WriteString(strconv.Itoa(e.Status))
	if e.Code != "" {
		b.WriteByte(' ')
		b.WriteString(string(e.Code))
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	var extra []string
	if e.Reason != "" {
		extra = append(extra, "reason "+e.Reason)
	}
	if e.Field != "" {
		extra = append(extra, "field "+e.Field)
	}
	if e.RetryAfter > 0 {
		extra = append(extra, "retry after "+e.RetryAfter.String())
	}
	if e.RequestID != "" {
		extra = append(extra, "request "+e.RequestID)
	}
	if len(extra) > 0 {
		b.WriteString(" (")
		b.WriteString(strings.Join(extra, ", "))
		b.WriteByte(')')
	}
	return b.String()
}

// IsCode reports whether err is, or wraps, an *Error with the code, for
// example IsCode(err, kurir.ENotFound) or IsCode(err, "rate_limited").
func IsCode(err error, code kurir.Code) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// problem is the body of an error response (httpapi.Problem).
type problem struct {
	Title      string `json:"title"`
	Status     int    `json:"status"`
	Detail     string `json:"detail"`
	Code       string `json:"code"`
	Reason     string `json:"reason"`
	Field      string `json:"field"`
	RetryAfter int64  `json:"retry_after"`
	RequestID  string `json:"request_id"`
}

// newError describes the error response resp to req, whose body (perhaps
// truncated) is body.
func newError(req *http.Request, resp *http.Response, body []byte) *Error {
	e := &Error{
		Status:    resp.StatusCode,
		Method:    req.Method,
		Path:      req.URL.Path,
		RequestID: resp.Header.Get("X-Request-ID"),
	}
	var p problem
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if (mt == "application/problem+json" || mt == "application/json") && json.Unmarshal(body, &p) == nil {
		e.Code = kurir.Code(p.Code)
		e.Reason, e.Field, e.Detail = p.Reason, p.Field, p.Detail
		if e.Detail == "" {
			e.Detail = p.Title
		}
		if p.RequestID != "" {
			e.RequestID = p.RequestID
		}
		if p.RetryAfter > 0 {
			e.RetryAfter = time.Duration(p.RetryAfter) * time.Second
		}
	} else {
		e.Detail = snippet(body)
	}
	if e.Code == "" {
		e.Code = codeOfStatus(resp.StatusCode)
	}
	if e.Detail == "" {
		e.Detail = http.StatusText(resp.StatusCode)
	}
	if e.Detail == "" {
		e.Detail = "The server answered with status " + strconv.Itoa(resp.StatusCode) + "."
	}
	if e.RetryAfter == 0 {
		e.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	return e
}

// codeOfStatus is the code the API uses for status, for error responses
// that carry none (from a proxy or load balancer in front of the server),
// or "" for a status that is not an error of the client or the server.
func codeOfStatus(status int) kurir.Code {
	if status < 400 {
		return ""
	}
	switch status {
	case http.StatusUnauthorized:
		return kurir.EUnauthenticated
	case http.StatusForbidden:
		return kurir.EForbidden
	case http.StatusNotFound:
		return kurir.ENotFound
	case http.StatusConflict:
		return kurir.EConflict
	case http.StatusTooManyRequests:
		return kurir.ERateLimited
	case http.StatusUnavailableForLegalReasons:
		return kurir.ELegal
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return kurir.EUnavailable
	}
	if status >= 500 {
		return kurir.EInternal
	}
	return kurir.EInvalid
}

// parseRetryAfter reads a Retry-After header (RFC 9110, section 10.2.3):
// a number of seconds or an HTTP date. It returns 0 for none or a bad value.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(min(secs, int64(24*time.Hour/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// snippet returns the start of a body as one line of valid text, for
// messages about responses that are not what the API sends.
func snippet(b []byte) string {
	const max = 200
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(b[:min(len(b), 4*max)]), "\uFFFD")), " ")
	if utf8.RuneCountInString(s) > max {
		r := []rune(s)
		s = string(r[:max]) + "…"
	}
	return s
}
