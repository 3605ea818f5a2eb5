package registry

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/google"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Credentials are a username and password for one registry, given as
// inputs; "" Registry means the destination.
type Credentials struct {
	Registry           string
	Username, Password string
}

// keychain finds credentials per registry, in order: the inputs, the
// Docker config (auths and credential helpers, the way docker login,
// docker/login-action, Azure's Docker@2 task and Cloud Build set them up),
// then Google's (Application Default Credentials, gcloud) for gcr.io and
// *.pkg.dev. It remembers where each registry's came from, so an error can
// name the source without the secret.
//
// Amazon ECR and Azure ACR are reached through their credential helpers
// (docker-credential-ecr-login, docker-credential-acr-env) named in the
// Docker config: linking their keychains would bring in the AWS and Azure
// SDKs for two registries a helper already serves.
type keychain struct {
	explicit Credentials

	mu      sync.Mutex
	sources map[string]string
}

func newKeychain(c Credentials) *keychain {
	return &keychain{explicit: c, sources: map[string]string{}}
}

func (k *keychain) Resolve(target authn.Resource) (authn.Authenticator, error) {
	reg := target.RegistryStr()
	if k.explicit.Username != "" && (k.explicit.Registry == "" || k.explicit.Registry == reg) {
		k.note(reg, "--username/--password")
		return &authn.Basic{Username: k.explicit.Username, Password: k.explicit.Password}, nil
	}
	// A Docker config naming a credential helper that is not installed
	// (Cloud Build's gcloud helper, seen from the step's scratch image)
	// fails here: go on to Google's keychain rather than stop.
	a, dockerErr := authn.DefaultKeychain.Resolve(target)
	if dockerErr == nil && a != authn.Anonymous {
		k.note(reg, "the Docker config "+dockerConfigPath())
		return a, nil
	}
	if a, err := google.Keychain.Resolve(target); err == nil && a != authn.Anonymous {
		k.note(reg, "Google credentials (Application Default Credentials or gcloud)")
		return a, nil
	}
	if dockerErr != nil {
		k.note(reg, fmt.Sprintf("no credentials (anonymous): %s could not be used: %v", dockerConfigPath(), dockerErr))
		return authn.Anonymous, nil
	}
	k.note(reg, "no credentials (anonymous): none in the inputs or "+dockerConfigPath()+dockerConfigMissing())
	return authn.Anonymous, nil
}

// dockerConfigMissing says why the Docker config gave nothing when its
// directory is not there: on GitHub, a login on the runner
// (docker/login-action, aws-actions/amazon-ecr-login, azure/docker-login)
// writes a directory a container action does not see.
func dockerConfigMissing() string {
	dir := os.Getenv("DOCKER_CONFIG")
	what := "DOCKER_CONFIG=" + dir + " is not there"
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(home, ".docker")
		what = dir + " is not there"
	}
	if _, err := os.Stat(dir); err == nil {
		return ""
	}
	if os.Getenv("GITHUB_ACTIONS") == "true" {
		return " (" + what + ": a login on the runner does not reach a container action, which shares only the workspace with it; " +
			"set DOCKER_CONFIG to a path relative to the workspace for the job, e.g. .gitship/docker, before the login step, or pass username and password)"
	}
	return " (" + what + ")"
}

func (k *keychain) note(reg, source string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.sources[reg] = source
}

func (k *keychain) source(reg string) string {
	k.mu.Lock()
	defer k.mu.Unlock()
	if s, ok := k.sources[reg]; ok {
		return s
	}
	return "no credentials looked up yet"
}

func dockerConfigPath() string {
	if dir := os.Getenv("DOCKER_CONFIG"); dir != "" {
		return filepath.Join(dir, "config.json")
	}
	return "~/.docker/config.json"
}

// ErrDenied is returned (in an *AuthError) when a registry refuses the
// credentials or the access.
var ErrDenied = errors.New("access denied")

// AuthError names the registry and where the credentials came from; never
// the credentials.
type AuthError struct {
	Registry string
	Status   int
	Source   string
	Err      error
}

func (e *AuthError) Error() string {
	what := "refused the credentials from " + e.Source
	if e.Status == http.StatusForbidden {
		what = "denied access with the credentials from " + e.Source
	}
	return fmt.Sprintf("registry %s %s (%d %s): check the username and password or token (--username/--password, or docker login %s) and that they may push there",
		e.Registry, what, e.Status, http.StatusText(e.Status), e.Registry)
}

func (e *AuthError) Unwrap() []error { return []error{ErrDenied, e.Err} }

// explain turns a 401/403 from anywhere in the stack into an *AuthError.
func (k *keychain) explain(err error, fallbackRegistry string) error {
	if err == nil {
		return nil
	}
	var te *transport.Error
	if errors.As(err, &te) && (te.StatusCode == http.StatusUnauthorized || te.StatusCode == http.StatusForbidden) {
		reg := fallbackRegistry
		if te.Request != nil && te.Request.URL != nil {
			reg = te.Request.URL.Host
		}
		return &AuthError{Registry: reg, Status: te.StatusCode, Source: k.source(reg), Err: err}
	}
	// The token exchange reports a refused login in its own words.
	if s := err.Error(); strings.Contains(s, "UNAUTHORIZED") || strings.Contains(s, "unauthorized") {
		return &AuthError{Registry: fallbackRegistry, Status: http.StatusUnauthorized, Source: k.source(fallbackRegistry), Err: err}
	}
	if strings.Contains(err.Error(), "DENIED") {
		return &AuthError{Registry: fallbackRegistry, Status: http.StatusForbidden, Source: k.source(fallbackRegistry), Err: err}
	}
	return err
}
