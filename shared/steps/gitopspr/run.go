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
	o, err := resolve(s)
	if err != nil {
		return err
	}
	c := r.Context()

	signed, err := verifyImages(ctx, s, o.render.images, r)
	if err != nil {
		return err
	}
	resources, err := renderPinned(ctx, o.render, r)
	if err != nil {
		return err
	}
	if err := check(ctx, o.render.validation, resources, r); err != nil {
		return err
	}

	deploy := Deploy{App: o.render.app, Environment: o.render.environment, Path: o.git.path, Images: o.render.images,
		SourceRepo: c.RepositoryURL, SourceCommit: c.SHA, RunURL: c.RunURL, RunID: c.RunID, Signed: signed}
	auth, signing, err := o.git.credentials()
	if err != nil {
		return err
	}
	author := o.git.author(c)
	for _, v := range []string{author.Name, author.Email} {
		if err := gitops.CheckIdent(v); err != nil {
			return step.Usagef("the run's actor cannot be the commit's author: %v; set --author-name and --author-email", err)
		}
	}

	var res gitops.Result
	err = r.Group("Commit to "+redact.URL(o.git.url)+" "+o.git.branch, func() error {
		res, err = gitops.Apply(ctx, gitops.Update{
			URL: o.git.url, Base: o.git.base, Branch: o.git.branch, Auth: auth, Author: author, Signing: signing,
			Message: deploy.Message(), Paths: []string{o.git.path},
			Write: func(dir string) error {
				change, err := write(dir, o.git.path, resources, o.render.copied())
				deploy.Change = change
				return err
			},
		}, r.Stdout)
		return err
	})
	if err != nil {
		return gitError(err)
	}
	fmt.Fprintf(r.Stdout, "%s: %s\n", o.git.path, deploy.Change.Summary())
	onBase := res.Commit == res.BaseCommit
	outputs := map[string]string{"changed": strconv.FormatBool(res.Changed), "commit": res.Commit, "branch": o.git.branch}
	if onBase {
		fmt.Fprintf(r.Stdout, "%s already has this content: no commit\n", o.git.base)
		outputs["branch"] = o.git.base
	}
	if onBase || o.git.direct {
		outputs["merge-commit"] = res.Commit
	}

	if o.pr.descriptionFile != "" && !onBase {
		text := "# " + cmp.Or(o.pr.title, deploy.Title()) + "\n\n" + deploy.Body(0)
		if err := atomicfile.Write(o.pr.descriptionFile, func(w io.Writer) error { _, err := io.WriteString(w, text); return err }); err != nil {
			return fmt.Errorf("--description-file: %w", err)
		}
		fmt.Fprintf(r.Stdout, "Description written to %s\n", o.pr.descriptionFile)
	}
	if !o.git.direct && !onBase && o.pr.provider != "none" {
		p, err := o.pr.open()
		if err != nil {
			return err
		}
		pr, err := openPR(ctx, p, o.pr, deploy, o.git.branch, o.git.base, r)
		if err != nil {
			return err
		}
		outputs["pr-url"], outputs["pr-number"] = pr.URL, strconv.Itoa(pr.Number)
		if o.wait.timeout > 0 {
			merged, err := waitMerged(ctx, p, o.wait, pr, r)
			if err != nil {
				return err
			}
			outputs["merge-commit"] = merged.MergeCommit
		}
	}
	for _, k := range []string{"changed", "commit", "branch", "pr-url", "pr-number", "merge-commit"} {
		if err := r.SetOutput(k, outputs[k]); err != nil {
			return err
		}
	}
	return r.Summary(deploy.Body(0))
}

// renderPinned renders o's sources for the first Kubernetes version and
// pins o's images in what they rendered.
func renderPinned(ctx context.Context, o renderOptions, r *step.Run) ([]render.Resource, error) {
	var resources []render.Resource
	err := r.Group("Render "+o.app+" for "+o.environment, func() error {
		var err error
		resources, err = o.sources.Render(ctx, o.validation.KubernetesVersions[0], r.Stdout)
		if err != nil {
			return validation.InputError(err)
		}
		if len(resources) == 0 {
			return step.Usagef("nothing rendered for %s: check --chart, --kustomize or --manifests", o.environment)
		}
		var counts map[string]int
		resources, counts, err = Pin(resources, o.images)
		if err != nil {
			return fmt.Errorf("%w: %w", err, step.ErrCheckFailed)
		}
		for _, img := range o.images {
			fmt.Fprintf(r.Stdout, "pinned %s in %d containers\n", img, counts[img])
		}
		return nil
	})
	return resources, err
}

// check validates the rendered resources: nothing invalid is committed.
func check(ctx context.Context, opts validation.Options, rs []render.Resource, r *step.Run) error {
	opts.Root, opts.Log = r.Context().Workspace, r.Stdout
	out, err := validation.Run(ctx, opts, rs, r)
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

// copied is what --include-source copies under the managed path: the
// chart (or overlay) and the values files; nil without it.
func (o renderOptions) copied() []string {
	if !o.includeSource {
		return nil
	}
	var srcs []string
	srcs = append(srcs, o.sources.Charts...)
	srcs = append(srcs, o.sources.Kustomize...)
	srcs = append(srcs, o.sources.Values...)
	return srcs
}

// write replaces the managed path (relative to the repository) in the
// checkout at dir with rs, copies sources (if any) beside them, and says
// what changed there.
func write(dir, managedPath string, rs []render.Resource, sources []string) (Change, error) {
	managed := filepath.Join(dir, filepath.FromSlash(managedPath))
	before, err := readTree(managed)
	if err != nil {
		return Change{}, fmt.Errorf("read %s: %w", managedPath, err)
	}
	if _, err := render.WriteTree(managed, rs); err != nil {
		if errors.Is(err, render.ErrNotOwned) {
			return Change{}, step.Usagef("--path %s: it exists in the GitOps repository without the %s marker, so gitship does not manage it; choose another path or add the marker to hand it over", managedPath, markerName)
		}
		return Change{}, err
	}
	if sources != nil {
		if err := copySources(filepath.Join(managed, sourceDir), sources); err != nil {
			return Change{}, fmt.Errorf("--include-source: %w", err)
		}
	}
	after, err := readTree(managed)
	if err != nil {
		return Change{}, err
	}
	return diffTrees(before, after, managedPath), nil
}

// copySources copies each of srcs, a file or a directory, under dst.
func copySources(dst string, srcs []string) error {
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

// openPR opens or updates the pull request from head to base on p.
func openPR(ctx context.Context, p forge.Provider, o prOptions, d Deploy, head, base string, r *step.Run) (forge.PullRequest, error) {
	title := cmp.Or(o.title, d.Title())
	var res forge.Result
	err := r.Group("Pull request on "+p.Name(), func() error {
		var err error
		res, err = p.Ensure(ctx, forge.Request{Head: head, Base: base, Title: title, Body: d.Body(p.BodyLimit()),
			Labels: o.labels, Reviewers: o.reviewers, Draft: o.draft, AutoMerge: o.autoMerge})
		return err
	})
	if err != nil {
		return forge.PullRequest{}, fmt.Errorf("pull request from %s to %s: %w", head, base, err)
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

// waitMerged waits for pr on p to be merged, as o says, and returns it
// merged.
func waitMerged(ctx context.Context, p forge.Provider, o waitOptions, pr forge.PullRequest, r *step.Run) (forge.PullRequest, error) {
	fmt.Fprintf(r.Stdout, "Waiting up to %s for %s to be merged\n", o.timeout, pr.URL)
	merged, err := forge.WaitMerged(ctx, p, pr.Number, o.timeout, o.poll)
	if err != nil {
		return forge.PullRequest{}, fmt.Errorf("--wait-merged: %w: %w", err, step.ErrCheckFailed)
	}
	if merged.MergeCommit != "" {
		fmt.Fprintf(r.Stdout, "Merged: %s as %s\n", pr.URL, merged.MergeCommit)
	} else {
		fmt.Fprintf(r.Stdout, "Merged: %s\n", pr.URL)
	}
	return merged, nil
}

// open is the provider the pull request is opened on.
func (o prOptions) open() (forge.Provider, error) {
	p, err := forge.New(o.provider, o.repository, o.forge)
	if err != nil {
		return nil, step.Usagef("--provider %s: %v (set --pr-repository to the repository's URL on %s)", o.provider, err, o.provider)
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
