package kurir

import (
	"errors"
	"fmt"
	"time"
)

// Code is a stable, machine-readable error category. Codes are part of the API:
// clients switch on them, so they are never renamed.
type Code string

// The error codes. The HTTP layer maps each to exactly one status.
const (
	ENotFound        Code = "not_found"
	EInvalid         Code = "invalid"
	EConflict        Code = "conflict"
	EForbidden       Code = "forbidden"
	EUnauthenticated Code = "unauthenticated"
	ERateLimited     Code = "rate_limited"
	EUnavailable     Code = "unavailable"
	// ELegal: withheld from the caller by the law where they are: content
	// restricted in their country, or a market the operator has left.
	ELegal    Code = "unavailable_for_legal_reasons"
	EInternal Code = "internal"
)

// Error is the error type every kurir package returns for conditions a caller
// should see. Message is written for a person and is safe to show to clients;
// anything else (SQL, stack, wrapped causes) stays in Err and is only logged.
type Error struct {
	Code    Code
	Message string
	// Reason is a finer, stable machine-readable cause within Code, such as
	// "account_suspended" or "weak_password". Optional.
	Reason string
	// Field names the request field at fault, for EInvalid. Optional.
	Field string
	// RetryAfter is set with ERateLimited and EUnavailable when the caller may retry.
	RetryAfter time.Duration
	// Limit is the bound the request went over, for reasons such as
	// "too_long" (characters), "too_large" and "quota_exceeded" (bytes), so
	// that a client can say it in the person's language. Optional.
	Limit int64
	// Country is the ISO 3166-1 code of the country whose law withholds the
	// subject, for reason "withheld_in_country". Optional.
	Country string
	// Err is the underlying cause, for logs only.
	Err error
}

// Error implements error.
func (e *Error) Error() string {
	s := string(e.Code) + ": " + e.Message
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the code and a formatted message for clients.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EInvalid error about one request field.
func Invalid(field, reason, format string, args ...any) *Error {
	return &Error{Code: EInvalid, Field: field, Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EInternal for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// ErrorMessage returns the client-safe message of err: the *Error's message,
// or a generic sentence for internal errors, whose details must not leak.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "An internal error occurred."
}

// ErrorReason returns the Reason of the first *Error in err's chain, or "".
func ErrorReason(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}
