package buildkit

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/session/secrets/secretsprovider"
	"github.com/moby/buildkit/session/sshforward/sshprovider"
)

// OptionError is a --secret, --ssh, --cache-from, --cache-to or
// --build-context value that cannot be used, naming the flag.
type OptionError struct {
	Flag, Value, Reason string
}

func (e *OptionError) Error() string {
	return fmt.Sprintf("--%s %q: %s", e.Flag, e.Value, e.Reason)
}

// fields parses buildx's CSV form "type=registry,ref=r/app:cache,mode=max".
func fields(flag, value string) (map[string]string, error) {
	rec, err := csv.NewReader(strings.NewReader(value)).Read()
	if err != nil {
		return nil, &OptionError{flag, value, "not a comma-separated list of key=value: " + err.Error()}
	}
	out := map[string]string{}
	for _, f := range rec {
		k, v, ok := strings.Cut(f, "=")
		k = strings.ToLower(strings.TrimSpace(k))
		if !ok || k == "" {
			return nil, &OptionError{flag, value, fmt.Sprintf("%q is not key=value", f)}
		}
		out[k] = v
	}
	return out, nil
}

// ParseCache reads a --cache-from or --cache-to value as buildx does:
// "type=registry,ref=REG/app:buildcache,mode=max", "type=local,dest=DIR",
// "type=local,src=DIR", "type=inline", "type=gha", or a bare reference for a
// registry cache. A gha cache takes its URL and token from the runner's
// ACTIONS_CACHE_URL, ACTIONS_RESULTS_URL and ACTIONS_RUNTIME_TOKEN, as
// docker/build-push-action does; env reads them.
func ParseCache(flag, value string, env func(string) (string, bool)) (client.CacheOptionsEntry, error) {
	if !strings.Contains(value, "=") {
		value = "type=registry,ref=" + value
	}
	attrs, err := fields(flag, value)
	if err != nil {
		return client.CacheOptionsEntry{}, err
	}
	typ := attrs["type"]
	delete(attrs, "type")
	if typ == "" {
		typ = "registry"
	}
	switch typ {
	case "registry":
		if attrs["ref"] == "" {
			return client.CacheOptionsEntry{}, &OptionError{flag, value, "a registry cache needs ref=REGISTRY/REPOSITORY:TAG"}
		}
	case "local":
		key := "src"
		if flag == "cache-to" {
			key = "dest"
		}
		if attrs[key] == "" {
			return client.CacheOptionsEntry{}, &OptionError{flag, value, "a local cache needs " + key + "=DIR"}
		}
		if flag == "cache-from" {
			if _, err := os.Stat(filepath.Join(attrs[key], "index.json")); err != nil {
				// buildx skips a local cache that is not there yet: the first run.
				return client.CacheOptionsEntry{}, nil
			}
		}
	case "inline":
	case "gha":
		for attr, vars := range map[string][]string{
			"url": {"ACTIONS_CACHE_URL"}, "url_v2": {"ACTIONS_RESULTS_URL"}, "token": {"ACTIONS_RUNTIME_TOKEN"}} {
			if attrs[attr] != "" {
				continue
			}
			for _, v := range vars {
				if s, ok := env(v); ok && s != "" {
					attrs[attr] = s
				}
			}
		}
		if attrs["token"] == "" || (attrs["url"] == "" && attrs["url_v2"] == "") {
			return client.CacheOptionsEntry{}, &OptionError{flag, value,
				"the GitHub Actions cache needs ACTIONS_RUNTIME_TOKEN and ACTIONS_CACHE_URL (or ACTIONS_RESULTS_URL): run on GitHub Actions, where the action passes them on, or give url= and token="}
		}
		if s, ok := env("ACTIONS_CACHE_SERVICE_V2"); ok && s != "" && attrs["version"] == "" {
			attrs["version"] = "2"
		}
	case "s3", "azblob":
	default:
		return client.CacheOptionsEntry{}, &OptionError{flag, value, fmt.Sprintf("unknown cache type %q: want registry, local, inline, gha, s3 or azblob", typ)}
	}
	return client.CacheOptionsEntry{Type: typ, Attrs: attrs}, nil
}

// Secret is a --secret: a file or an environment variable the build's
// RUN --mount=type=secret,id=ID reads. Only its name travels in options;
// the value is read when the daemon asks, through the session.
type Secret = secretsprovider.Source

// ParseSecret reads "id=npmrc,src=FILE" (also source=, type=file) or
// "id=token,env=VAR" (type=env); a missing file or variable is an error
// here, before any build.
func ParseSecret(value string, env func(string) (string, bool)) (Secret, error) {
	attrs, err := fields("secret", value)
	if err != nil {
		return Secret{}, err
	}
	s := Secret{ID: attrs["id"]}
	src := attrs["src"]
	if src == "" {
		src = attrs["source"]
	}
	switch typ := attrs["type"]; {
	case attrs["env"] != "":
		s.Env = attrs["env"]
	case typ == "env":
		s.Env = src
		if s.Env == "" {
			s.Env = s.ID
		}
	case typ == "" || typ == "file":
		s.FilePath = src
	default:
		return Secret{}, &OptionError{"secret", value, fmt.Sprintf("unknown type %q: want file or env", typ)}
	}
	if s.ID == "" {
		s.ID = filepath.Base(s.FilePath + s.Env)
	}
	switch {
	case s.ID == "" || s.ID == ".":
		return Secret{}, &OptionError{"secret", value, "want id=ID,src=FILE or id=ID,env=VARIABLE"}
	case s.Env != "":
		if _, ok := env(s.Env); !ok {
			return Secret{}, &OptionError{"secret", value, fmt.Sprintf("no %s in the environment", s.Env)}
		}
	case s.FilePath == "":
		return Secret{}, &OptionError{"secret", value, "want src=FILE or env=VARIABLE"}
	default:
		fi, err := os.Stat(s.FilePath)
		if err != nil {
			return Secret{}, &OptionError{"secret", value, fmt.Sprintf("secret file: %v", err)}
		}
		if fi.IsDir() {
			return Secret{}, &OptionError{"secret", value, s.FilePath + " is a directory"}
		}
	}
	return s, nil
}

// SSH is an --ssh agent or key set the build's RUN --mount=type=ssh uses.
type SSH = sshprovider.AgentConfig

// ParseSSH reads "default" (the agent at SSH_AUTH_SOCK), "default=PATH" or
// "ID=PATH[,PATH...]" (agent sockets or private key files), as docker build
// --ssh does.
func ParseSSH(value string, env func(string) (string, bool)) (SSH, error) {
	id, paths, _ := strings.Cut(value, "=")
	id = strings.TrimSpace(id)
	if id == "" {
		return SSH{}, &OptionError{"ssh", value, "want default, or ID=PATH with PATH an agent socket or a key file"}
	}
	var ps []string
	if paths != "" {
		ps = strings.Split(paths, ",")
	} else {
		sock, ok := env("SSH_AUTH_SOCK")
		if !ok || sock == "" {
			return SSH{}, &OptionError{"ssh", value, "no SSH_AUTH_SOCK in the environment: start an agent (ssh-agent, webfactory/ssh-agent on GitHub, InstallSSHKey@0 on Azure) or give ID=KEYFILE"}
		}
		ps = []string{sock}
	}
	for _, p := range ps {
		if _, err := os.Stat(p); err != nil {
			return SSH{}, &OptionError{"ssh", value, err.Error()}
		}
	}
	return SSH{ID: id, Paths: ps}, nil
}

// ParseBuildContext reads "name=DIR" (a local directory) or
// "name=docker-image://REF", "name=oci-layout://DIR@DIGEST" and the other
// sources the Dockerfile frontend takes, as docker buildx --build-context.
func ParseBuildContext(value string) (name, source string, err error) {
	name, source, ok := strings.Cut(value, "=")
	if !ok || name == "" || source == "" {
		return "", "", &OptionError{"build-context", value, "want NAME=DIR or NAME=docker-image://REF"}
	}
	if strings.Contains(source, "://") {
		return name, source, nil
	}
	fi, err := os.Stat(source)
	if err != nil {
		return "", "", &OptionError{"build-context", value, err.Error()}
	}
	if !fi.IsDir() {
		return "", "", &OptionError{"build-context", value, source + " is not a directory"}
	}
	return name, source, nil
}
