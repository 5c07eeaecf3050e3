package bus

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"kurir"
)

// MaxSubjectLen is the longest subject or pattern, in bytes, that the bus
// accepts. It leaves room under NATS's 4 KiB protocol line for a prefix.
const MaxSubjectLen = 256

// ValidateSubject reports whether subject may be published to: one or more
// non-empty tokens separated by '.', with no whitespace, control characters
// or invalid UTF-8, no longer than MaxSubjectLen bytes, and no wildcards,
// since a message goes to one subject. The error is a *kurir.Error with code
// kurir.EInvalid and reason "invalid_subject", and says what is wrong.
func ValidateSubject(subject string) error {
	return validate(subject, false)
}

// ValidatePattern reports whether pattern may be subscribed to: the rules of
// ValidateSubject, except that a token may be the wildcard '*' (any one
// token), and the last token may be the wildcard '>' (one or more tokens).
// A wildcard character inside a longer token, such as "a*", is rejected
// rather than taken literally, because it is almost surely a mistake.
func ValidatePattern(pattern string) error {
	return validate(pattern, true)
}

func validate(s string, wildcards bool) error {
	what := "subject"
	if wildcards {
		what = "pattern"
	}
	invalid := func(format string, args ...any) error {
		shown := s
		if len(shown) > 64 {
			shown = shown[:64] + "..."
		}
		return &kurir.Error{
			Code:    kurir.EInvalid,
			Reason:  "invalid_subject",
			Message: fmt.Sprintf("bus %s %q: ", what, shown) + fmt.Sprintf(format, args...),
		}
	}
	switch {
	case s == "":
		return invalid("is empty")
	case len(s) > MaxSubjectLen:
		return invalid("is %d bytes long, more than the limit of %d", len(s), MaxSubjectLen)
	}
	// One pass over the bytes; this runs on every Publish.
	token, start, wild := 1, 0, false
	for i := 0; ; {
		if i == len(s) || s[i] == '.' {
			t := s[start:i]
			switch {
			case t == "":
				return invalid("token %d is empty (subjects are non-empty tokens separated by single dots)", token)
			case !wild:
			case !wildcards:
				return invalid("contains a wildcard ('*' or '>'); messages are published to literal subjects")
			case t != "*" && t != ">":
				return invalid("token %d mixes a wildcard with other characters; '*' and '>' must be whole tokens", token)
			case t == ">" && i < len(s):
				return invalid("has '>' as token %d; '>' may only be the last token", token)
			}
			if i == len(s) {
				return nil
			}
			i++
			token, start, wild = token+1, i, false
			continue
		}
		if c := s[i]; c < utf8.RuneSelf {
			switch {
			case c <= ' ' || c == 0x7f:
				return invalid("token %d contains whitespace or a control character", token)
			case c == '*' || c == '>':
				wild = true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return invalid("token %d is not valid UTF-8", token)
		case unicode.IsSpace(r) || unicode.IsControl(r):
			return invalid("token %d contains whitespace or a control character", token)
		}
		i += size
	}
}

// isLiteral reports whether a valid pattern has no wildcards, so that it
// matches exactly one subject: itself.
func isLiteral(pattern string) bool {
	return !strings.ContainsAny(pattern, "*>")
}

// match reports whether the valid pattern matches the valid subject.
func match(pattern, subject string) bool {
	for {
		pt, prest, pmore := strings.Cut(pattern, ".")
		if pt == ">" {
			return true // subject has at least one token left here
		}
		st, srest, smore := strings.Cut(subject, ".")
		if pt != "*" && pt != st {
			return false
		}
		if !pmore || !smore {
			return pmore == smore
		}
		pattern, subject = prest, srest
	}
}

// ValidateSize reports whether a message of size bytes fits under limit, the
// largest size an implementation accepts. The error is a *kurir.Error with
// code kurir.EInvalid and reason "too_large".
func ValidateSize(size, limit int) error {
	if size <= limit {
		return nil
	}
	return &kurir.Error{
		Code:    kurir.EInvalid,
		Reason:  "too_large",
		Message: fmt.Sprintf("bus message is %d bytes, more than the limit of %d", size, limit),
	}
}
