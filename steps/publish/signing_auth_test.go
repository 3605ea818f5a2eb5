package main

// Signing through the registry client's credentials: a registry with
// htpasswd auth whose login is only in DOCKER_CONFIG relative to the
// workspace (what docs/github.md sets up for docker/login-action), and the
// refusals a user meets, worded as the push words its own.

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitship/gitship/internal/registrytest"
	"github.com/gitship/gitship/internal/steptest"
)

// dockerConfig writes what docker login --password-stdin writes for each
// host into dir/config.json.
func dockerConfig(t *testing.T, dir, user, password string, hosts ...string) {
	t.Helper()
	var entries []string
	for _, h := range hosts {
		entries = append(entries, fmt.Sprintf("%q: {\"auth\": %q}", h, base64.StdEncoding.EncodeToString([]byte(user+":"+password))))
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte("{\"auths\": {"+strings.Join(entries, ", ")+"}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// On GitHub, with the login only in DOCKER_CONFIG=.gitship/docker: publish
// --signing-key pushes, signs and attests on a registry with auth (cosign,
// given the same config, verifies all three), and a promotion from it
// verifies the signature and copies it. Without the config, or when the
// registry refuses the signature, the error names the registry and where
// the credentials came from, as the push's own refusals do.
func TestSigningRegistryAuth(t *testing.T) {
	const user, password = "ci", "s3cret-pw"
	staging := registrytest.Start(t, registrytest.Options{Username: user, Password: password})
	prod := registrytest.Start(t, registrytest.Options{})
	refusing := registrytest.NewProxy(t, staging, registrytest.Faults{Rate: 1, Status: http.StatusUnauthorized,
		Match: func(r *http.Request) bool { return registrytest.Request(r, "PUT", ".sig") }})
	ws, _ := steptest.Checkout(t, steptest.Repo{Files: map[string]string{"README.md": "app\n"}, Remote: origin})
	keyPair(t, ws)
	want := layout(t, filepath.Join(ws, "img"), nil)
	dockerConfig(t, filepath.Join(ws, ".gitship", "docker"), user, password, staging.Host, refusing.Host)
	github := func(dockerConfig string) map[string]string {
		env := steptest.CIEnv("github", ws, t.TempDir())
		env["DOCKER_CONFIG"] = dockerConfig
		env["GITSHIP_SIGNING_KEY_PASSWORD"] = "pw"
		return env
	}

	res := steptest.Run(t, binary, ws, github(".gitship/docker"), "--image", "oci:img", "--repository", staging.Host+"/shop",
		"--insecure", "--signing-key", "cosign.key", "--tag", "v1")
	mustSucceed(t, res)
	image := staging.Host + "/shop@" + want.String()
	for _, line := range []string{"Signed " + image + " by key sha256:", "Attested in " + staging.Host + "/shop:sha256-"} {
		if !strings.Contains(res.Stdout, line) {
			t.Errorf("stdout lacks %q:\n%s", line, res.Stdout)
		}
	}
	// cosign reads the same login: the signature and both attestations
	// are on the registry with auth.
	t.Setenv("DOCKER_CONFIG", filepath.Join(ws, ".gitship", "docker"))
	mustCosign(t, ws, "verify", "--key", "cosign.pub", "--insecure-ignore-tlog", image)
	mustCosign(t, ws, "verify-attestation", "--key", "cosign.pub", "--insecure-ignore-tlog", "--type", "slsaprovenance1", image)
	mustCosign(t, ws, "verify-attestation", "--key", "cosign.pub", "--insecure-ignore-tlog", "--type", "spdxjson", image)

	// gitship's own verification reads the signature with the same login,
	// and the copy goes to a registry without auth, where cosign needs none.
	res = steptest.Run(t, binary, ws, github(".gitship/docker"), "--promote-from", staging.Host+"/shop:v1",
		"--repository", prod.Host+"/shop", "--insecure", "--require-signature", "key=cosign.pub")
	mustSucceed(t, res)
	if !strings.Contains(res.Stdout, "Verified "+image+": signed by key sha256:") {
		t.Errorf("stdout does not say what it verified:\n%s", res.Stdout)
	}
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	mustCosign(t, ws, "verify", "--key", "cosign.pub", "--insecure-ignore-tlog", prod.Host+"/shop@"+want.String())

	runnerTemp := filepath.Join(t.TempDir(), "_temp", "docker_login_1")
	for _, tt := range []struct {
		name string
		env  map[string]string
		args []string
		want []string
	}{
		{"promotion with the login on the runner only", github(runnerTemp),
			[]string{"--promote-from", staging.Host + "/shop:v1", "--repository", prod.Host + "/other", "--require-signature", "key=cosign.pub"},
			[]string{"registry " + staging.Host + " refused the credentials from no credentials (anonymous): none in the inputs or " +
				filepath.Join(runnerTemp, "config.json") + " (DOCKER_CONFIG=" + runnerTemp + " is not there: a login on the runner does not reach a container action",
				"set DOCKER_CONFIG to a path relative to the workspace for the job"}},
		{"registry refusing the signature", github(".gitship/docker"),
			[]string{"--image", "oci:img", "--repository", refusing.Host + "/shop", "--signing-key", "cosign.key"},
			[]string{"the image is published unsigned: write " + refusing.Host + "/shop:" + strings.Replace(want.String(), ":", "-", 1) + ".sig: ",
				"registry " + refusing.Host + " refused the credentials from the Docker config .gitship/docker/config.json (401 Unauthorized)"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := steptest.Run(t, binary, ws, tt.env, append(tt.args, "--insecure")...)
			if res.Code != 1 {
				t.Errorf("exit %d, want 1\n%s", res.Code, res.Stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(res.Stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, res.Stderr)
				}
			}
			steptest.NoSecret(t, res, nil, password)
		})
	}
	if d := registrytest.Digest(t, prod.Host+"/other@"+want.String()); d != "" {
		t.Errorf("%s/other has %s: nothing is promoted from a registry that refused", prod.Host, d)
	}
}
