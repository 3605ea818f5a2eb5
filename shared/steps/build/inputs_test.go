package build

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/gitship/gitship/shared/ci"
	"github.com/gitship/gitship/shared/redact"
	"github.com/gitship/gitship/shared/step"
)

func env(m map[string]string) lookupEnv {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

const sha = "0123456789abcdef0123456789abcdef01234567"

func TestResolve(t *testing.T) {
	c := ci.Context{SHA: sha, RepositoryURL: "https://github.com/acme/Shop.git", Tag: "v1.4.0",
		CommitTime: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	s := Settings{Context: ".",
		BuildArgs:   *cli.NewStringSlice("GO_VERSION=1.26", "NPM_TOKEN"),
		Labels:      *cli.NewStringSlice("team=payments", "org.opencontainers.image.source=https://example.com/mirror"),
		Tags:        *cli.NewStringSlice("latest", "registry.example.com/shop/api:v1"),
		Outputs:     *cli.NewStringSlice("docker", "oci:out/image"),
		TestTarget:  "test",
		TestCommand: `["go", "test", "./..."]`,
		TestEnv:     *cli.NewStringSlice("CI=true", "NPM_TOKEN"),
	}
	in, err := resolve(s, c, env(map[string]string{"NPM_TOKEN": "t0k"}))
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"GO_VERSION": "1.26", "NPM_TOKEN": "t0k"}; !maps.Equal(in.buildArgs, want) {
		t.Errorf("build args = %v, want %v", in.buildArgs, want)
	}
	wantLabels := map[string]string{
		LabelRevision: sha, LabelCreated: "2026-01-02T03:04:05Z", LabelVersion: "1.4.0",
		LabelSource: "https://example.com/mirror", // --label wins
		"team":      "payments",
	}
	if !maps.Equal(in.labels, wantLabels) {
		t.Errorf("labels = %v, want %v", in.labels, wantLabels)
	}
	wantTags := []string{"shop:" + sha, "shop:latest", "registry.example.com/shop/api:v1"}
	if !slices.Equal(in.tags, wantTags) {
		t.Errorf("tags = %q, want %q", in.tags, wantTags)
	}
	if !in.docker || in.ociDir != "out/image" {
		t.Errorf("outputs: docker %t, oci %q", in.docker, in.ociDir)
	}
	if !slices.Equal(in.testCmd, []string{"go", "test", "./..."}) {
		t.Errorf("test command = %q", in.testCmd)
	}
	if !slices.Equal(in.testEnv, []string{"CI=true", "NPM_TOKEN=t0k"}) {
		t.Errorf("test env = %q", in.testEnv)
	}
}

func TestResolveErrors(t *testing.T) {
	base := func() Settings { return Settings{Context: ".", Outputs: *cli.NewStringSlice("docker")} }
	for _, tt := range []struct {
		name   string
		modify func(*Settings)
		env    map[string]string
		want   string
	}{
		{"build arg without value", func(s *Settings) { s.BuildArgs = *cli.NewStringSlice("TOKEN") }, nil,
			"--build-arg TOKEN: no value given and no TOKEN in the environment"},
		{"label without value", func(s *Settings) { s.Labels = *cli.NewStringSlice("team") }, nil, `--label "team": want KEY=VALUE`},
		{"empty key", func(s *Settings) { s.BuildArgs = *cli.NewStringSlice("=1") }, nil, `--build-arg "=1": want KEY=VALUE`},
		{"unknown output", func(s *Settings) { s.Outputs = *cli.NewStringSlice("tar:x") }, nil, `--output "tar:x"`},
		{"two layouts", func(s *Settings) { s.Outputs = *cli.NewStringSlice("oci:a", "oci:b") }, nil, "only one oci: output"},
		{"test command without stage", func(s *Settings) { s.TestCommand = "make test" }, nil, "--test-command needs --test-target"},
		{"report without stage", func(s *Settings) { s.TestReport = "r.xml" }, nil, "--test-report needs --test-target"},
		{"broken argv", func(s *Settings) { s.TestTarget, s.TestCommand = "test", `["go", "test"` }, nil, "JSON array of strings"},
		{"empty argv", func(s *Settings) { s.TestTarget, s.TestCommand = "test", `[]` }, nil, "the array is empty"},
		{"bad image name", func(s *Settings) { s.Image = "Shop API" }, nil, `--image "Shop API"`},
		{"bad tag", func(s *Settings) { s.Tags = *cli.NewStringSlice("v1 beta") }, nil, `--tag "v1 beta"`},
		{"bad epoch", func(*Settings) {}, map[string]string{"SOURCE_DATE_EPOCH": "yesterday"}, "SOURCE_DATE_EPOCH"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := base()
			tt.modify(&s)
			_, err := resolve(s, ci.Context{SHA: sha}, env(tt.env))
			var usage *step.UsageError
			if !errors.As(err, &usage) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("resolve = %v, want a usage error containing %q", err, tt.want)
			}
		})
	}
}

func TestTestCommand(t *testing.T) {
	for in, want := range map[string][]string{
		"":                            nil,
		"go test ./... && make lint":  {"/bin/sh", "-c", "go test ./... && make lint"},
		`["npm", "test", "--", "-u"]`: {"npm", "test", "--", "-u"},
		` ["pytest"] `:                {"pytest"},
	} {
		got, err := testCommand(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("testCommand(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestLabels(t *testing.T) {
	commit := time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("CET", 3600))
	for _, tt := range []struct {
		name string
		c    ci.Context
		env  map[string]string
		want map[string]string
	}{
		{"commit on a branch", ci.Context{SHA: sha, RepositoryURL: "https://github.com/acme/shop", CommitTime: commit}, nil,
			map[string]string{LabelRevision: sha, LabelSource: "https://github.com/acme/shop", LabelCreated: "2026-01-02T02:04:05Z"}},
		{"semver tag", ci.Context{SHA: sha, Tag: "v2.0.1-rc.1"}, nil,
			map[string]string{LabelRevision: sha, LabelVersion: "2.0.1-rc.1"}},
		{"other tag kept as it is", ci.Context{SHA: sha, Tag: "release-42"}, nil,
			map[string]string{LabelRevision: sha, LabelVersion: "release-42"}},
		{"SOURCE_DATE_EPOCH wins", ci.Context{SHA: sha, CommitTime: commit}, map[string]string{"SOURCE_DATE_EPOCH": "1700000000"},
			map[string]string{LabelRevision: sha, LabelCreated: "2023-11-14T22:13:20Z"}},
		{"credentials never in a label", ci.Context{RepositoryURL: "https://x:tok@dev.azure.com/o/p/_git/shop"}, nil,
			map[string]string{LabelSource: "https://dev.azure.com/o/p/_git/shop"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ociLabels(tt.c, env(tt.env))
			if err != nil || !maps.Equal(got, tt.want) {
				t.Errorf("ociLabels = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestDefaultImageName(t *testing.T) {
	for _, tt := range []struct{ url, dir, want string }{
		{"https://github.com/acme/shop.git", ".", "shop"},
		{"git@github.com:acme/Payments_API.git", ".", "payments_api"},
		{"https://dev.azure.com/org/proj/_git/My Service", ".", "my-service"},
		{"", "/src/checkout-api", "checkout-api"},
		{"", "/", "app"},
		{redact.RedactedURL, "/src/checkout-api", "checkout-api"},
	} {
		if got := defaultImageName(tt.url, tt.dir); got != tt.want {
			t.Errorf("defaultImageName(%q, %q) = %q, want %q", tt.url, tt.dir, got, tt.want)
		}
	}
}

func TestTailWriter(t *testing.T) {
	tw := &tailWriter{max: 2}
	tw.Write([]byte("one\ntwo\nthr"))
	tw.Write([]byte("ee\nfour"))
	if got := tw.String(); got != "  three\n  four\n" {
		t.Errorf("tail = %q", got)
	}
}
