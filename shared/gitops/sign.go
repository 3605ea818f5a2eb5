package gitops

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/ProtonMail/go-crypto/openpgp"
	git "github.com/go-git/go-git/v5"
	"github.com/hiddeco/sshsig"
	"golang.org/x/crypto/ssh"
)

// sshNamespace is the sshsig namespace git signs and verifies commits in.
const sshNamespace = "git"

// signer is how a commit gets signed: at most one of the two is set.
type signer struct {
	pgp *openpgp.Entity
	ssh git.Signer
}

// commitOptions fills in the signing part of opts.
func (s signer) commitOptions(opts *git.CommitOptions) {
	opts.SignKey = s.pgp
	opts.Signer = s.ssh
}

// newSigner reads the key in s once, before any clone, so that a bad key or
// passphrase fails the step before it touches the remote.
func newSigner(s *Signing) (signer, error) {
	if s == nil {
		return signer{}, nil
	}
	switch {
	case len(s.OpenPGPKey) > 0 && len(s.SSHKey) > 0:
		return signer{}, errors.New("signing: set one of OpenPGPKey and SSHKey, not both")
	case len(s.OpenPGPKey) > 0:
		e, err := readOpenPGPKey(s.OpenPGPKey, s.Passphrase)
		if err != nil {
			return signer{}, fmt.Errorf("signing: OpenPGP key: %w", err)
		}
		return signer{pgp: e}, nil
	case len(s.SSHKey) > 0:
		k, err := readSSHKey(s.SSHKey, s.Passphrase)
		if err != nil {
			return signer{}, fmt.Errorf("signing: SSH key: %w", err)
		}
		return signer{ssh: sshSigner{k}}, nil
	}
	return signer{}, errors.New("signing: no key set")
}

func readOpenPGPKey(armored []byte, passphrase string) (*openpgp.Entity, error) {
	keys, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(armored))
	if err != nil {
		return nil, err
	}
	for _, e := range keys {
		if e.PrivateKey == nil {
			continue
		}
		if e.PrivateKey.Encrypted || anyEncryptedSubkey(e) {
			if passphrase == "" {
				return nil, errors.New("the key is encrypted and no passphrase is set")
			}
			if err := e.DecryptPrivateKeys([]byte(passphrase)); err != nil {
				return nil, fmt.Errorf("decrypt: %w", err)
			}
		}
		return e, nil
	}
	return nil, errors.New("no private key in the armored key ring")
}

func anyEncryptedSubkey(e *openpgp.Entity) bool {
	for _, sub := range e.Subkeys {
		if sub.PrivateKey != nil && sub.PrivateKey.Encrypted {
			return true
		}
	}
	return false
}

func readSSHKey(pem []byte, passphrase string) (ssh.Signer, error) {
	if passphrase != "" {
		return ssh.ParsePrivateKeyWithPassphrase(pem, []byte(passphrase))
	}
	return ssh.ParsePrivateKey(pem)
}

// sshSigner signs commits the way git does with gpg.format=ssh: an armored
// sshsig signature over the commit, SHA-512, namespace "git".
type sshSigner struct{ key ssh.Signer }

var _ git.Signer = sshSigner{}

func (s sshSigner) Sign(message io.Reader) ([]byte, error) {
	sig, err := sshsig.Sign(message, s.key, sshsig.HashSHA512, sshNamespace)
	if err != nil {
		return nil, err
	}
	return sshsig.Armor(sig), nil
}
