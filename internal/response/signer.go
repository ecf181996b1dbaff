package response

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

// Signer signs for one account. An implementation never reveals its key:
// its String names the account and where the key came from, nothing more.
// Safe for concurrent use.
type Signer interface {
	Address() common.Address
	// SignTx signs a transaction for chainID.
	SignTx(tx *types.Transaction, chainID *big.Int) (*types.Transaction, error)
	// SignHash signs a 32-byte digest (a Safe transaction hash) and returns
	// the 65-byte r‖s‖v signature with v 27 or 28.
	SignHash(hash common.Hash) ([]byte, error)
}

// KeySigner is an EOA signer holding a private key in memory.
type KeySigner struct {
	key    *ecdsa.PrivateKey
	addr   common.Address
	source string
}

// NewKeySigner returns a signer for key; source says where it came from
// ("env BLOCKTORCH_SIGNER_KEY", "keystore /path").
func NewKeySigner(key *ecdsa.PrivateKey, source string) *KeySigner {
	return &KeySigner{key: key, addr: crypto.PubkeyToAddress(key.PublicKey), source: source}
}

// Address returns the signer's account.
func (k *KeySigner) Address() common.Address { return k.addr }

// String names the account and the key's source, never the key.
func (k KeySigner) String() string { return "EOA " + k.addr.Hex() + " (" + k.source + ")" }

// GoString is String, so %#v does not print the key either.
func (k KeySigner) GoString() string { return k.String() }

// MarshalText is the account, so the signer never encodes its key.
func (k KeySigner) MarshalText() ([]byte, error) { return []byte(k.addr.Hex()), nil }

// SignTx signs tx with the London signer of chainID.
func (k *KeySigner) SignTx(tx *types.Transaction, chainID *big.Int) (*types.Transaction, error) {
	return types.SignTx(tx, types.LatestSignerForChainID(chainID), k.key)
}

// SignHash signs a digest; v is 27 or 28, as Safe checks ECDSA signatures.
func (k *KeySigner) SignHash(hash common.Hash) ([]byte, error) {
	sig, err := crypto.Sign(hash[:], k.key)
	if err != nil {
		return nil, err
	}
	sig[64] += 27
	return sig, nil
}

// SignerConfig says where the EOA signer's key is. At most one of
// KeystoreFile and KeyEnv is set.
type SignerConfig struct {
	// KeystoreFile is an encrypted JSON keystore (geth, cast wallet); its
	// password is in PasswordFile, or the environment variable PasswordEnv.
	KeystoreFile string
	PasswordFile string
	PasswordEnv  string
	// KeyEnv names an environment variable holding the hex private key.
	KeyEnv string
}

// maxSecretFile bounds a key or password file.
const maxSecretFile = 64 << 10

// LoadSigner reads the signer cfg names, or returns nil when it names
// none. Key and password files must be regular files that only their
// owner may read or write (mode 0600 or 0400); anything else is refused
// with ErrKeyFile. getenv reads the environment (os.Getenv). Errors name
// the file or variable, never the key.
func LoadSigner(cfg SignerConfig, getenv func(string) string) (*KeySigner, error) {
	switch {
	case cfg.KeystoreFile != "" && cfg.KeyEnv != "":
		return nil, fmt.Errorf("%w: give a keystore file or a key variable, not both", ErrInvalid)
	case cfg.KeyEnv != "":
		v := strings.TrimSpace(getenv(cfg.KeyEnv))
		if v == "" {
			return nil, fmt.Errorf("%w: the environment variable %s is empty", ErrInvalid, cfg.KeyEnv)
		}
		key, err := crypto.HexToECDSA(strings.TrimPrefix(v, "0x"))
		if err != nil {
			return nil, fmt.Errorf("%w: %s does not hold a hex private key", ErrInvalid, cfg.KeyEnv)
		}
		return NewKeySigner(key, "env "+cfg.KeyEnv), nil
	case cfg.KeystoreFile != "":
		data, err := readSecretFile(cfg.KeystoreFile)
		if err != nil {
			return nil, err
		}
		var password string
		switch {
		case cfg.PasswordFile != "":
			p, err := readSecretFile(cfg.PasswordFile)
			if err != nil {
				return nil, err
			}
			password = strings.TrimRight(string(p), "\r\n")
		case cfg.PasswordEnv != "":
			password = getenv(cfg.PasswordEnv)
		default:
			return nil, fmt.Errorf("%w: the keystore %s needs a password file or variable", ErrInvalid, cfg.KeystoreFile)
		}
		k, err := keystore.DecryptKey(data, password)
		if err != nil {
			if errors.Is(err, keystore.ErrDecrypt) {
				return nil, fmt.Errorf("%w: cannot decrypt the keystore %s: wrong password", ErrInvalid, cfg.KeystoreFile)
			}
			return nil, fmt.Errorf("%w: cannot read the keystore %s: %v", ErrInvalid, cfg.KeystoreFile, err)
		}
		return NewKeySigner(k.PrivateKey, "keystore "+cfg.KeystoreFile), nil
	}
	return nil, nil
}

// readSecretFile reads a key or password file that only its owner can
// read: a regular file with no group or other permission bits.
func readSecretFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKeyFile, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKeyFile, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrKeyFile, path)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s may be read or written by others (mode %04o); run chmod 600 %s", ErrKeyFile, path, perm, path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return nil, fmt.Errorf("%w: cannot read %s: %v", ErrKeyFile, path, err)
	}
	if len(data) > maxSecretFile {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrKeyFile, path, maxSecretFile)
	}
	return data, nil
}
