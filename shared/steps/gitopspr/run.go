package gitopspr

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gitship/gitship/shared/atomicfile"
	"github.com/gitship/gitship/shared/finding"
	"github.com/gitship/gitship/shared/forge"
	"github.com/gitship/gitship/shared/gitops"
	"github.com/gitship/gitship/shared/redact"
	"github.com/gitship/gitship/shared/render"
	"github.com/gitship/gitship/shared/step"
	"github.com/gitship/gitship/shared/validation"
)

// Run renders, validates and commits what the settings name and opens or
// updates the pull request, reporting on r's platform.
func Run(ctx context.Context, s Settings, r *step.Run) error {
	in, err := resolve(s)
	if err != nil {
		return err
	}
	c := r.Context()

	var resources []render.Resource
	err = r.Group("Render "+in.app+" for "+s.Environment, func() error {
		resources, err = in.sources.Render(ctx, in.kubeVersions[0], r.Stdout)
		if err != nil {
			return validation.InputError(err)
		}
		if len(resources) == 0 {
			return step.Usagef("nothing rendered for %s: check --chart, --kustomize or --manifests", s.Environment)
		}
		var counts map[string]int
		resources, counts, err = Pin(resources, s.Images.Value())
		if err != nil {
			return fmt.Errorf("%w: %w", err, step.ErrCheckFailed)
		}
		for _, img := range s.Images.Value() {
			fmt.Fprintf(r.Stdout, "pinned %s in %d containers\n", img, counts[img])
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := check(ctx, s, in, resources, r); err != nil {
		return err
	}

	deploy := Deploy{App: in.app, Environment: s.Environment, Path: in.path, Images: s.Images.Value(),
		SourceRepo: c.RepositoryURL, SourceCommit: c.SHA, RunURL: c.RunURL, RunID: c.RunID}
	branch := s.GitOpsBranch
	if !s.Direct {
		branch = prBranch(in.app, s.Environment)
	}
	auth, signing, err := credentials(s)
	if err != nil {
		return err
	}
	author := gitops.Author{Name: cmp.Or(s.AuthorName, c.Actor, "gitship"),
		Email: cmp.Or(s.AuthorEmail, c.ActorEmail, "gitship@users.noreply.github.com")}
	for _, v := range []string{author.Name, author.Email} {
		if err := gitops.CheckIdent(v); err != nil {
			return step.Usagef("the run's actor cannot be the commit's author: %v; set --author-name and --author-email", err)
		}
	}

	var res gitops.Result
	err = r.Group("Commit to "+redact.URL(s.GitOpsRepo)+" "+branch, func() error {
		res, err = gitops.Apply(ctx, gitops.Update{
			URL: s.GitOpsRepo, Base: s.GitOpsBranch, Branch: branch, Auth: auth, Author: author, Signing: signing,
			Message: deploy.Message(), Paths: []string{in.path},
			Write: func(dir string) error {
				change, err := write(dir, in, resources, s)
				deploy.Change = change
				return err
			},
		}, r.Stdout)
		return err
	})
	if err != nil {
		return gitError(err)
	}
	fmt.Fprintf(r.Stdout, "%s: %s\n", in.path, deploy.Change.Summary())
	onBase := res.Commit == res.BaseCommit
	outputs := map[string]string{"changed": strconv.FormatBool(res.Changed), "commit": res.Commit, "branch": branch}
	if onBase {
		fmt.Fprintf(r.Stdout, "%s already has this content: no commit\n", s.GitOpsBranch)
		outputs["branch"] = s.GitOpsBranch
	}

	if s.DescriptionFile != "" && !onBase {
		text := "# " + cmp.Or(s.Title, deploy.Title()) + "\n\n" + deploy.Body(0)
		if err := atomicfile.Write(s.DescriptionFile, func(w io.Writer) error { _, err := io.WriteString(w, text); return err }); err != nil {
			return fmt.Errorf("--description-file: %w", err)
		}
		fmt.Fprintf(r.Stdout, "Description written to %s\n", s.DescriptionFile)
	}
	if !s.Direct && !onBase && in.provider != "none" {
		pr, err := openPR(ctx, s, in, deploy, branch, r)
		if err != nil {
			return err
		}
		outputs["pr-url"], outputs["pr-number"] = pr.URL, strconv.Itoa(pr.Number)
		if s.WaitMerged > 0 {
			if err := waitMerged(ctx, s, in, pr, r); err != nil {
				return err
			}
		}
	}
	for _, k := range []string{"changed", "commit", "branch", "pr-url", "pr-number"} {
		if err := r.SetOutput(k, outputs[k]); err != nil {
			return err
		}
	}
	return r.Summary(deploy.Body(0))
}

// check validates the rendered resources: nothing invalid is committed.
func check(ctx context.Context, s Settings, in inputs, rs []render.Resource, r *step.Run) error {
	opts := s.ValidationFlags.Options()
	opts.KubernetesVersions, opts.Root, opts.Log = in.kubeVersions, r.Context().Workspace, r.Stdout
	v, err := validation.New(opts)
	if err != nil {
		return step.Usagef("--kubernetes-version: %v", err)
	}
	defer v.Close()
	var out validation.Outcome
	err = r.Group("Validate", func() error {
		out, err = v.Check(ctx, rs)
		return err
	})
	if err != nil {
		return err
	}
	for _, f := range out.Findings() {
		r.Platform.Annotate(r.Stdout, f)
	}
	fmt.Fprintln(r.Stdout, out.Totals())
	if n := out.Failing(); n > 0 {
		return fmt.Errorf("%d of %d resources failed validation; nothing was committed: %w", n, len(out.Results), step.ErrCheckFailed)
	}
	return nil
}

// write replaces the managed path in the checkout at dir and says what
// changed there.
func write(dir string, in inputs, rs []render.Resource, s Settings) (Change, error) {
	managed := filepath.Join(dir, filepath.FromSlash(in.path))
	before, err := readTree(managed)
	if err != nil {
		return Change{}, fmt.Errorf("read %s: %w", in.path, err)
	}
	if _, err := render.WriteTree(managed, rs); err != nil {
		if errors.Is(err, render.ErrNotOwned) {
			return Change{}, step.Usagef("--path %s: it exists in the GitOps repository without the %s marker, so gitship does not manage it; choose another path or add the marker to hand it over", in.path, markerName)
		}
		return Change{}, err
	}
	if s.IncludeSource {
		if err := copySources(filepath.Join(managed, sourceDir), in); err != nil {
			return Change{}, fmt.Errorf("--include-source: %w", err)
		}
	}
	after, err := readTree(managed)
	if err != nil {
		return Change{}, err
	}
	return diffTrees(before, after, in.path), nil
}

// copySources copies the chart (or overlay) and the values files.
func copySources(dst string, in inputs) error {
	var srcs []string
	srcs = append(srcs, in.sources.Charts...)
	srcs = append(srcs, in.sources.Kustomize...)
	srcs = append(srcs, in.sources.Values...)
	for _, src := range srcs {
		target := filepath.Join(dst, filepath.Clean(strings.TrimLeft(filepath.ToSlash(src), "./")))
		err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(src, p)
			out := filepath.Join(target, rel)
			if d.IsDir() {
				return os.MkdirAll(out, 0o755)
			}
			if !d.Type().IsRegular() {
				return nil
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
				return err
			}
			return os.WriteFile(out, data, 0o644)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func openPR(ctx context.Context, s Settings, in inputs, d Deploy, branch string, r *step.Run) (forge.PullRequest, error) {
	p, err := provider(s, in)
	if err != nil {
		return forge.PullRequest{}, err
	}
	title := cmp.Or(s.Title, d.Title())
	var res forge.Result
	err = r.Group("Pull request on "+p.Name(), func() error {
		res, err = p.Ensure(ctx, forge.Request{Head: branch, Base: s.GitOpsBranch, Title: title, Body: d.Body(p.BodyLimit()),
			Labels: s.Labels.Value(), Reviewers: s.Reviewers.Value(), Draft: s.Draft, AutoMerge: s.AutoMerge})
		return err
	})
	if err != nil {
		return forge.PullRequest{}, fmt.Errorf("pull request from %s to %s: %w", branch, s.GitOpsBranch, err)
	}
	for _, w := range res.Warnings {
		r.Platform.Annotate(r.Stdout, finding.Finding{Severity: finding.Warning, Message: w})
	}
	verb := "Updated"
	if res.Created {
		verb = "Opened"
	}
	fmt.Fprintf(r.Stdout, "%s pull request #%d: %s\n", verb, res.PullRequest.Number, res.PullRequest.URL)
	return res.PullRequest, nil
}

func waitMerged(ctx context.Context, s Settings, in inputs, pr forge.PullRequest, r *step.Run) error {
	p, err := provider(s, in)
	if err != nil {
		return err
	}
	fmt.Fprintf(r.Stdout, "Waiting up to %s for %s to be merged\n", s.WaitMerged, pr.URL)
	if _, err := forge.WaitMerged(ctx, p, pr.Number, s.WaitMerged, s.WaitPoll); err != nil {
		return fmt.Errorf("--wait-merged: %w: %w", err, step.ErrCheckFailed)
	}
	fmt.Fprintf(r.Stdout, "Merged: %s\n", pr.URL)
	return nil
}

func provider(s Settings, in inputs) (forge.Provider, error) {
	repo := cmp.Or(s.PRRepository, s.GitOpsRepo)
	p, err := forge.New(in.provider, repo, forge.Options{Token: s.Token, APIURL: s.APIURL})
	if err != nil {
		return nil, step.Usagef("--provider %s: %v (set --pr-repository to the repository's URL on %s)", in.provider, err, in.provider)
	}
	return p, nil
}

// gitError makes refused credentials, lost races and pushes the server
// refused failed checks with
// their message as it is.
func gitError(err error) error {
	var usage *step.UsageError
	if errors.As(err, &usage) {
		return err
	}
	if errors.Is(err, gitops.ErrAuth) || errors.Is(err, gitops.ErrRejected) || errors.Is(err, gitops.ErrRefused) {
		return fmt.Errorf("%w: %w", err, step.ErrCheckFailed)
	}
	return err
}
