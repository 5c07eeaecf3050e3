package account

import (
	"bufio"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"

	"kurir"
)

// Argon2Params are argon2id cost parameters.
type Argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes over memory
	Threads uint8  // lanes
	SaltLen uint32 // bytes of random salt
	KeyLen  uint32 // bytes of derived key
}

// DefaultArgon2Params are OWASP's minimum for argon2id: 19 MiB of memory, two
// passes, one lane, a 16-byte salt and a 32-byte key. A hash takes about
// 30 ms and 19 MiB on one core of a 2-core AMD EPYC virtual machine
// (go test ./account -run '^$' -bench HashPassword). Treat it as read-only.
var DefaultArgon2Params = Argon2Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// CheapArgon2Params are for tests only: 64 KiB and one pass make a hash take
// well under a millisecond, which no attacker would be slowed by. Treat it as
// read-only.
var CheapArgon2Params = Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// Bounds on parameters, both those HashPassword is given and those read from
// a stored hash. A corrupt or planted hash asking for gigabytes or thousands
// of passes must not take the server down at login.
const (
	maxArgon2Memory  = 1 << 20 // KiB: 1 GiB
	maxArgon2Time    = 64
	maxArgon2Threads = 64
	minArgon2Salt    = 8 // RFC 9106's minimum; the reference test vectors use 8
	maxArgon2Salt    = 64
	minArgon2Key     = 16
	maxArgon2Key     = 64
	maxEncodedLen    = 256 // far more than any hash within the bounds above
)

// b64 is the PHC string format's base64: standard alphabet, no padding, and
// strict, so that each hash has exactly one encoding.
var b64 = base64.RawStdEncoding.Strict()

// HashPassword hashes password with argon2id and a fresh random salt, and
// returns the hash in PHC string format, as the reference argon2 CLI prints it:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>
//
// The password is NFKC-normalised first, as NIST SP 800-63B recommends, so
// that an accented password typed composed on one device and decomposed on
// another still verifies. It returns an error only if p is out of bounds.
func HashPassword(password string, p Argon2Params) (string, error) {
	if err := p.check(); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	salt := make([]byte, p.SaltLen)
	rand.Read(salt) // never fails; crashes the program if the kernel cannot give randomness
	key := argon2.IDKey([]byte(norm.NFKC.String(password)), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return phcHash{params: p, salt: salt, key: key}.String(), nil
}

// VerifyPassword reports whether password matches encoded, a hash made by
// HashPassword or by any argon2id implementation in PHC string format. The
// comparison takes the same time wherever the keys differ. A wrong password
// gives false and a nil error; an encoded string that is malformed, not
// argon2id version 19, or whose parameters are out of bounds (more than
// 1 GiB of memory, more than 64 passes or lanes) gives an error, which means
// the stored hash is corrupt, not that the password is wrong.
func VerifyPassword(encoded, password string) (ok bool, err error) {
	h, err := parsePHC(encoded)
	if err != nil {
		return false, fmt.Errorf("verify password: %w", err)
	}
	key := argon2.IDKey([]byte(norm.NFKC.String(password)), h.salt, h.params.Time, h.params.Memory, h.params.Threads, h.params.KeyLen)
	return subtle.ConstantTimeCompare(key, h.key) == 1, nil
}

// NeedsRehash reports whether encoded was made with parameters other than p,
// or cannot be parsed. Call it after a successful VerifyPassword and, if it
// says so, store HashPassword(password, p) in place of encoded. Weaker and
// stronger parameters alike count as different, so that lowering p on an
// overloaded server takes effect too.
func NeedsRehash(encoded string, p Argon2Params) bool {
	h, err := parsePHC(encoded)
	return err != nil || h.params != p
}

// phcHash is a parsed argon2id PHC string.
type phcHash struct {
	params    Argon2Params
	salt, key []byte
}

// String returns h in PHC string format; parsePHC reverses it exactly.
func (h phcHash) String() string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		h.params.Memory, h.params.Time, h.params.Threads, b64.EncodeToString(h.salt), b64.EncodeToString(h.key))
}

// parsePHC parses "$argon2id$v=19$m=M,t=T,p=P$salt$key" strictly: fields in
// that order, decimal numbers without sign or leading zeros, canonical
// base64, and every parameter within bounds.
func parsePHC(s string) (phcHash, error) {
	var h phcHash
	if len(s) > maxEncodedLen {
		return h, errors.New("argon2 hash is too long")
	}
	f := strings.Split(s, "$")
	if len(f) != 6 || f[0] != "" {
		return h, errors.New("argon2 hash is not in PHC string format")
	}
	if f[1] != "argon2id" {
		return h, fmt.Errorf("unsupported password hash algorithm %q", f[1])
	}
	if f[2] != "v="+strconv.Itoa(argon2.Version) {
		return h, fmt.Errorf("unsupported argon2 version %q", f[2])
	}
	ps := strings.Split(f[3], ",")
	if len(ps) != 3 {
		return h, fmt.Errorf("argon2 parameters %q are not m=M,t=T,p=P", f[3])
	}
	var threads uint32
	for i, dst := range []*uint32{&h.params.Memory, &h.params.Time, &threads} {
		v, err := parsePHCParam(ps[i], "mtp"[i:i+1])
		if err != nil {
			return h, err
		}
		*dst = v
	}
	if threads > maxArgon2Threads {
		return h, fmt.Errorf("argon2 parallelism %d is out of bounds", threads)
	}
	h.params.Threads = uint8(threads)
	var err error
	if h.salt, err = b64.DecodeString(f[4]); err != nil {
		return h, fmt.Errorf("argon2 salt: %w", err)
	}
	if h.key, err = b64.DecodeString(f[5]); err != nil {
		return h, fmt.Errorf("argon2 key: %w", err)
	}
	h.params.SaltLen, h.params.KeyLen = uint32(len(h.salt)), uint32(len(h.key))
	return h, h.params.check()
}

// parsePHCParam parses one "name=decimal" parameter.
func parsePHCParam(s, name string) (uint32, error) {
	digits, ok := strings.CutPrefix(s, name+"=")
	if !ok || digits == "" || len(digits) > 10 || digits[0] == '0' || strings.Trim(digits, "0123456789") != "" {
		return 0, fmt.Errorf("argon2 parameter %q is not %s=N", s, name)
	}
	v, err := strconv.ParseUint(digits, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("argon2 parameter %q: %w", s, err)
	}
	return uint32(v), nil
}

// check reports whether p is within the bounds this package hashes and
// verifies with.
func (p Argon2Params) check() error {
	switch {
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxArgon2Memory:
		return fmt.Errorf("argon2 memory %d KiB is out of bounds (8 KiB per lane to %d KiB)", p.Memory, maxArgon2Memory)
	case p.Time < 1 || p.Time > maxArgon2Time:
		return fmt.Errorf("argon2 time %d is out of bounds (1 to %d)", p.Time, maxArgon2Time)
	case p.Threads < 1 || p.Threads > maxArgon2Threads:
		return fmt.Errorf("argon2 parallelism %d is out of bounds (1 to %d)", p.Threads, maxArgon2Threads)
	case p.SaltLen < minArgon2Salt || p.SaltLen > maxArgon2Salt:
		return fmt.Errorf("argon2 salt length %d is out of bounds (%d to %d bytes)", p.SaltLen, minArgon2Salt, maxArgon2Salt)
	case p.KeyLen < minArgon2Key || p.KeyLen > maxArgon2Key:
		return fmt.Errorf("argon2 key length %d is out of bounds (%d to %d bytes)", p.KeyLen, minArgon2Key, maxArgon2Key)
	}
	return nil
}

// Password length limits. The minimum is NIST SP 800-63B's; the maximum
// keeps hashing input bounded and is far above any passphrase.
const (
	minPasswordLen   = 8   // characters (runes) after NFKC
	maxPasswordBytes = 256 // bytes as sent
	maxRepeatUnit    = 4   // longest pattern whose repetition is refused
)

// CheckPasswordStrength returns nil if password is acceptable for the
// account named username, or a kurir.EInvalid error on field "password"
// whose Message says what is wrong. Following NIST SP 800-63B it imposes no
// composition rules (no "one digit and one symbol"); it refuses passwords
// that are:
//
//   - not valid UTF-8 (reason "password_invalid");
//   - longer than 256 bytes (reason "password_too_long");
//   - shorter than 8 characters after NFKC normalisation, or the username,
//     or containing the username, compared without regard to case, or one
//     character or a pattern of up to 4 characters repeated ("aaaaaaaa",
//     "abcabcabc"), or a run of consecutive characters ("abcdefgh",
//     "87654321"), or one of a few thousand common passwords, alone or with
//     digits and symbols around it ("Password1!", "sunshine2024") (reason
//     "weak_password").
func CheckPasswordStrength(password, username string) error {
	if len(password) > maxPasswordBytes {
		return kurir.Invalid("password", "password_too_long",
			"Passwords can be at most %d bytes long (%d Latin letters, fewer in other alphabets); this one is %d.",
			maxPasswordBytes, maxPasswordBytes, len(password))
	}
	if !utf8.ValidString(password) {
		return kurir.Invalid("password", "password_invalid", "Passwords must be valid UTF-8 text.")
	}
	p := []rune(nfkcCasefold(password))
	if len(p) < minPasswordLen {
		return errWeakPassword("Passwords must be at least %d characters long.", minPasswordLen)
	}
	ps := string(p)
	if name := UsernameKey(username); name != "" {
		if ps == name {
			return errWeakPassword("Your password must not be your username.")
		}
		if utf8.RuneCountInString(name) >= minUsernameLen && strings.Contains(ps, name) {
			return errWeakPassword("Your password must not contain your username.")
		}
	}
	if k := repeatedUnit(p); k == 1 {
		return errWeakPassword("Passwords must not be one character repeated, like \"aaaaaaaa\".")
	} else if k > 1 {
		return errWeakPassword("Passwords must not be a short pattern repeated, like \"abcabcabc\".")
	}
	if isSequence(p) {
		return errWeakPassword("Passwords must not be a run of consecutive characters, like \"abcdefgh\" or \"12345678\".")
	}
	common := commonPasswords()
	if common[ps] {
		return errWeakPassword("This password is one of the most common passwords, which attackers try first. Choose another.")
	}
	if base := strings.TrimFunc(ps, func(r rune) bool { return !unicode.IsLetter(r) }); base != ps && common[base] {
		return errWeakPassword("This password is a common password with digits or symbols added, which attackers try first. Choose another.")
	}
	return nil
}

func errWeakPassword(format string, args ...any) error {
	return kurir.Invalid("password", "weak_password", format, args...)
}

// repeatedUnit returns the length k, at most maxRepeatUnit, of the shortest
// unit whose repetition p is (the last repetition may be cut short), or 0.
// The caller ensures len(p) >= minPasswordLen, so a match repeats at least
// twice.
func repeatedUnit(p []rune) int {
	for k := 1; k <= maxRepeatUnit; k++ {
		repeats := true
		for i := k; i < len(p) && repeats; i++ {
			repeats = p[i] == p[i-k]
		}
		if repeats {
			return k
		}
	}
	return 0
}

// isSequence reports whether each rune of p is one more than the last, or
// each one less: "abcdefgh", "12345678", "hgfedcba".
func isSequence(p []rune) bool {
	step := p[1] - p[0]
	if step != 1 && step != -1 {
		return false
	}
	for i := 2; i < len(p); i++ {
		if p[i]-p[i-1] != step {
			return false
		}
	}
	return true
}

//go:embed common-passwords.txt
var commonPasswordList string

// commonPasswords is the set of common-passwords.txt, folded as passwords
// are, built on first use.
var commonPasswords = sync.OnceValue(func() map[string]bool {
	set := make(map[string]bool, 4096)
	sc := bufio.NewScanner(strings.NewReader(commonPasswordList))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		set[nfkcCasefold(line)] = true
	}
	return set
})
