package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// PasswordParams are the argon2id costs a new password hash is made with.
// A stored hash carries its own, so raising them later keeps old
// passwords working.
type PasswordParams struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// DefaultPasswordParams are OWASP's minimum for argon2id (19 MiB, 2
// passes, 1 lane): about 30 ms a login on one core.
var DefaultPasswordParams = PasswordParams{Memory: 19 * 1024, Time: 2, Threads: 1}

// Password length bounds: long enough to resist guessing offline, short
// enough that hashing one cannot tie up the server.
const (
	MinPasswordLen = 10
	MaxPasswordLen = 256
)

// ErrWeakPassword is returned for a password outside the length bounds.
var ErrWeakPassword = fmt.Errorf("a password must be %d to %d characters long", MinPasswordLen, MaxPasswordLen)

// checkPassword says why pw cannot be a password, or nil.
func checkPassword(pw string) error {
	if n := len([]rune(pw)); n < MinPasswordLen || len(pw) > MaxPasswordLen {
		return ErrWeakPassword
	}
	return nil
}

// HashPassword returns the encoded argon2id hash of pw with a random salt:
// $argon2id$v=19$m=MEM,t=TIME,p=LANES$SALT$HASH (base64, no padding).
func HashPassword(pw string, p PasswordParams) string {
	var salt [16]byte
	if _, err := rand.Read(salt[:]); err != nil {
		panic("BUG: crypto/rand failed: " + err.Error())
	}
	sum := argon2.IDKey([]byte(pw), salt[:], p.Time, p.Memory, p.Threads, 32)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt[:]), b64.EncodeToString(sum))
}

// errBadHash is a stored hash this version cannot read.
var errBadHash = errors.New("not an argon2id hash")

// maxHashMemory bounds the memory a stored hash may ask for (1 GiB), so
// that a tampered row cannot exhaust the server.
const maxHashMemory = 1 << 20

// VerifyPassword reports whether pw matches the encoded hash, comparing in
// constant time; an error says the hash cannot be read.
func VerifyPassword(pw, encoded string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return false, errBadHash
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false, errBadHash
	}
	var p PasswordParams
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil ||
		p.Memory == 0 || p.Memory > maxHashMemory || p.Time == 0 || p.Time > 100 || p.Threads == 0 {
		return false, errBadHash
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return false, errBadHash
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) < 16 || len(want) > 64 {
		return false, errBadHash
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}
