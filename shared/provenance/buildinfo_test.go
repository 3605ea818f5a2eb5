package provenance

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/gitship/gitship/shared/ocilayout"
)

func TestBuildInfoRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "image")
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	digest, err := ocilayout.Write(dir, img, "app:1")
	if err != nil {
		t.Fatal(err)
	}
	want := *buildInfo()
	want.Image = digest.String()
	if err := WriteBuildInfo(dir, want); err != nil {
		t.Fatalf("WriteBuildInfo() = %v", err)
	}
	got, err := ReadBuildInfo(dir)
	if err != nil {
		t.Fatalf("ReadBuildInfo() = %v", err)
	}
	// Times come back in UTC or their own zone: compare instants.
	if !got.StartedOn.Equal(want.StartedOn) || !got.FinishedOn.Equal(want.FinishedOn) {
		t.Errorf("ReadBuildInfo() times = %v, %v; want %v, %v", got.StartedOn, got.FinishedOn, want.StartedOn, want.FinishedOn)
	}
	got.StartedOn, got.FinishedOn = want.StartedOn, want.FinishedOn
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ReadBuildInfo() =\n %+v\nwant\n %+v", got, want)
	}
	if fi, err := os.Stat(filepath.Join(dir, BuildInfoFile)); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("%s: %v, mode %v; want 0644 (publish may run as another user)", BuildInfoFile, err, fi.Mode())
	}
}

func TestReadBuildInfoRefuses(t *testing.T) {
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	layoutWith := func(t *testing.T, content string) string {
		dir := filepath.Join(t.TempDir(), "image")
		digest, err := ocilayout.Write(dir, img, "")
		if err != nil {
			t.Fatal(err)
		}
		if content != "" {
			content = strings.ReplaceAll(content, "DIGEST", digest.String())
			if err := os.WriteFile(filepath.Join(dir, BuildInfoFile), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	tests := []struct {
		name    string
		content string
		is      error
		errHas  string
	}{
		{name: "no file", is: ErrNoBuildInfo, errHas: "has no gitship-build.json"},
		{
			// The layout was rewritten (another image) after build wrote
			// the file: its base images would be another image's.
			name:    "stale",
			content: `{"version":1,"image":"sha256:` + hexB + `"}`,
			errHas:  "describes image sha256:" + hexB + ", and ",
		},
		{name: "newer format", content: `{"version":2,"image":"DIGEST"}`, errHas: "version 2; this gitship reads version 1"},
		{name: "not JSON", content: `{"version":1,`, errHas: "gitship-build.json: unexpected end of JSON input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadBuildInfo(layoutWith(t, tt.content))
			if err == nil || !strings.Contains(err.Error(), tt.errHas) || tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("ReadBuildInfo() = %v, want an error with %q", err, tt.errHas)
			}
		})
	}
}
