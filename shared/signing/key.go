package signing

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
)

// ErrKeyPassword is returned when a key file does not open with the
// password given (or none was given for an encrypted one).
var ErrKeyPassword = errors.New("wrong or missing key password")

// ErrKey is returned for a key that is not one Signer takes: not PEM, or
// neither ECDSA P-256 nor Ed25519.
var ErrKey = errors.New("unusable signing key")

// Signer signs with a private key: an ECDSA P-256 key (SHA-256, ASN.1
// signatures, as cosign) or an Ed25519 key.
type Signer struct {
	signer signature.Signer
	public crypto.PublicKey
	// KeyID names the public key: "sha256:" and the hex SHA-256 of its
	// DER (SubjectPublicKeyInfo), what a verifier's policy can name.
	KeyID string
}

// LoadSigner reads a private key in PEM: cosign's encrypted key file
// (ENCRYPTED SIGSTORE PRIVATE KEY or ENCRYPTED COSIGN PRIVATE KEY, from
// `cosign generate-key-pair`, opened with password), or an unencrypted
// PKCS#8 PRIVATE KEY or SEC 1 EC PRIVATE KEY.
func LoadSigner(pemBytes, password []byte) (*Signer, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, fmt.Errorf("%w: no PEM block in it", ErrKey)
	}
	encrypted := strings.HasPrefix(block.Type, "ENCRYPTED ")
	if encrypted && len(password) == 0 {
		return nil, fmt.Errorf("%w: the key is a %s and no password was given", ErrKeyPassword, block.Type)
	}
	var pf cryptoutils.PassFunc
	if encrypted {
		pf = cryptoutils.StaticPasswordFunc(password)
	}
	priv, err := cryptoutils.UnmarshalPEMToPrivateKey(pemBytes, pf)
	if err != nil {
		if encrypted {
			// cosign's key files decrypt with scrypt and secretbox: a
			// wrong password fails to open the box, nothing more to say.
			return nil, fmt.Errorf("%w: %s: %v", ErrKeyPassword, block.Type, err)
		}
		return nil, fmt.Errorf("%w: %s: %v", ErrKey, block.Type, err)
	}
	switch k := priv.(type) {
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return nil, fmt.Errorf("%w: ECDSA on %s; want P-256", ErrKey, k.Curve.Params().Name)
		}
	case ed25519.PrivateKey:
	default:
		return nil, fmt.Errorf("%w: a %T; want ECDSA P-256 or Ed25519", ErrKey, priv)
	}
	s, err := signature.LoadSigner(priv, crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	pub, err := s.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	id, err := keyID(pub)
	if err != nil {
		return nil, err
	}
	return &Signer{signer: s, public: pub, KeyID: id}, nil
}

// PublicKey is the signer's public key.
func (s *Signer) PublicKey() crypto.PublicKey { return s.public }

// PublicKeyPEM is the signer's public key as cosign writes cosign.pub.
func (s *Signer) PublicKeyPEM() ([]byte, error) {
	return cryptoutils.MarshalPublicKeyToPEM(s.public)
}

// LoadPublicKey reads a PEM public key (cosign.pub).
func LoadPublicKey(pemBytes []byte) (crypto.PublicKey, error) {
	pub, err := cryptoutils.UnmarshalPEMToPublicKey(pemBytes)
	if err != nil {
		return nil, fmt.Errorf("read public key: %w", err)
	}
	switch pub.(type) {
	case *ecdsa.PublicKey, ed25519.PublicKey:
		return pub, nil
	}
	return nil, fmt.Errorf("public key is a %T; want ECDSA or Ed25519", pub)
}

func keyID(pub crypto.PublicKey) (string, error) {
	der, err := cryptoutils.MarshalPublicKeyToDER(pub)
	if err != nil {
		return "", fmt.Errorf("encode public key: %w", err)
	}
	sum := sha256.Sum256(der)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}
