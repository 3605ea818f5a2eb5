package registry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Tag is a tag to set and whether it may move to another digest.
type Tag struct {
	Name string
	// Immutable tags (a commit SHA, a release version) keep the digest
	// they were first given, unless Options.Overwrite.
	Immutable bool
}

// Result is what a push or a promotion published.
type Result struct {
	Digest v1.Hash
	// Image is "repository@sha256:...", what a deployment pins.
	Image string
	// Tags are the full references tagged, in the order given.
	Tags []string
	// Moved are the tags that pointed elsewhere before.
	Moved []string
}

// ErrTagConflict is returned when an immutable tag already names another
// digest.
var ErrTagConflict = errors.New("immutable tag points at another digest")

// Push uploads every blob and the manifest by digest, checks the registry
// serves that digest, checks every tag, and only then sets the tags (see
// tag): nothing is tagged when the upload or the check fails. When a tag
// cannot be set the error is a *TagError, which says which tags are set.
func (c *Client) Push(ctx context.Context, a Artifact, repo name.Repository, tags []Tag, opts ...PushOption) (Result, error) {
	var o pushOptions
	for _, opt := range opts {
		opt(&o)
	}
	digest, err := a.Digest()
	if err != nil {
		return Result{}, fmt.Errorf("read %s: %w", a.From, err)
	}
	// The tags are checked while the blobs go up: a refused tag cancels
	// the upload, and on a fast registry the round trips of the check cost
	// nothing. Nothing is tagged either way until both are done.
	upCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	checked := make(chan error, 1)
	go func() {
		_, err := c.checkTags(upCtx, repo, tags, digest)
		if err != nil {
			cancel()
		}
		checked <- err
	}()
	upErr := c.upload(upCtx, a, repo, digest)
	if err := <-checked; err != nil && (upErr == nil || ctx.Err() == nil) && !errors.Is(err, context.Canceled) {
		return Result{}, err
	}
	if upErr != nil {
		return Result{}, upErr
	}
	if o.uploaded == nil {
		return c.tag(ctx, a, repo, tags, digest)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		o.uploaded(repo.Digest(digest.String()))
	}()
	res, err := c.tag(ctx, a, repo, tags, digest)
	<-done
	return res, err
}

// PushOption changes what Push does.
type PushOption func(*pushOptions)

type pushOptions struct {
	uploaded func(name.Digest)
}

// WhenUploaded has Push call f with the image's reference by digest once
// the registry serves it, in a goroutine of its own while the tags are
// set, and return once f has returned too. What f writes that names the
// digest (a signature: publish) then costs no round trip of its own after
// the tags. It is not called when the upload fails; when a tag then loses
// a race (a *TagError), what f wrote stays, as the image does.
func WhenUploaded(f func(name.Digest)) PushOption {
	return func(o *pushOptions) { o.uploaded = f }
}

// upload writes the artifact by digest and verifies it.
func (c *Client) upload(ctx context.Context, a Artifact, repo name.Repository, digest v1.Hash) error {
	ref := repo.Digest(digest.String())
	fmt.Fprintf(c.opts.Log, "Uploading %s to %s\n", digest, repo)
	// The retries owed to this write, and only to it: one granted after
	// its last failure is never made.
	wctx := withUploadRetries(ctx)
	var err error
	if a.Index != nil {
		err = remote.WriteIndex(ref, a.Index, c.remote(wctx)...)
	} else {
		err = remote.Write(ref, a.Image, c.remote(wctx)...)
	}
	if err != nil {
		return c.wrap(fmt.Errorf("upload to %s: %w", repo, err), repo)
	}
	got, err := remote.Head(ref, c.remote(ctx)...)
	if err != nil {
		return c.wrap(fmt.Errorf("verify %s: %w", ref, err), repo)
	}
	if got.Digest != digest {
		return fmt.Errorf("verify %s: the registry serves %s", ref, got.Digest)
	}
	return nil
}

// tag sets the tags once every one of them may move. The immutable tags
// go first, one at a time in the order given (the full commit SHA first),
// each written conditionally (If-None-Match: * when it was absent) and
// read back at once; then all of them are read back again, and only then are the
// movable tags written. So a run that loses a race for its commit tag
// writes nothing more, and no branch or latest tag ever moves to an image
// whose commit tags are not set. A tag whose write fails does not stop
// the others of its kind; the error says which tags are set and which are
// not.
func (c *Client) tag(ctx context.Context, a Artifact, repo name.Repository, tags []Tag, digest v1.Hash) (Result, error) {
	states, err := c.checkTags(ctx, repo, tags, digest)
	if err != nil {
		return Result{}, err
	}
	res := Result{Digest: digest, Image: repo.Digest(digest.String()).String()}
	for i, t := range tags {
		res.Tags = append(res.Tags, repo.Tag(t.Name).String())
		if states[i] != "" && states[i] != digest.String() {
			res.Moved = append(res.Moved, fmt.Sprintf("%s (was %s)", repo.Tag(t.Name), states[i]))
		}
	}
	report := &TagError{Repository: repo.String(), Digest: digest.String()}
	var conflicts []string
	var immutable []int
	for i, t := range tags {
		if !t.Immutable {
			continue
		}
		immutable = append(immutable, i)
		if len(conflicts) > 0 {
			report.NotSet = append(report.NotSet, TagState{Tag: t.Name, Why: "not written: an earlier commit or release tag was lost"})
			continue
		}
		err := c.setImmutable(ctx, a, repo, t.Name, states[i], digest)
		var lost *lostError
		switch {
		case errors.As(err, &lost):
			conflicts = append(conflicts, fmt.Sprintf("%s is %s", t.Name, lost.now))
			report.NotSet = append(report.NotSet, TagState{Tag: t.Name, Why: "names " + lost.now})
		case err != nil:
			report.NotSet = append(report.NotSet, TagState{Tag: t.Name, Why: err.Error(), err: err})
		default:
			report.Set = append(report.Set, t.Name)
		}
	}
	// Read every immutable tag back once more: on a registry without
	// conditional writes another run may have written one since.
	if len(conflicts) == 0 && len(report.NotSet) == 0 && len(immutable) > 0 {
		now, err := c.readTags(ctx, repo, tags, immutable, "read back")
		if err != nil {
			return Result{}, err
		}
		report.Set = nil
		for _, i := range immutable {
			if now[i] != digest.String() {
				conflicts = append(conflicts, fmt.Sprintf("%s is %s", tags[i].Name, describe(now[i])))
				report.NotSet = append(report.NotSet, TagState{Tag: tags[i].Name, Why: "names " + describe(now[i])})
			} else {
				report.Set = append(report.Set, tags[i].Name)
			}
		}
	}
	immutableOK := len(report.NotSet) == 0
	// The movable tags, at once.
	var movable []int
	for i, t := range tags {
		if t.Immutable {
			continue
		}
		if !immutableOK {
			report.NotSet = append(report.NotSet, TagState{Tag: t.Name, Why: "not written: the commit and release tags are not all set"})
			continue
		}
		if states[i] == digest.String() {
			report.Set = append(report.Set, t.Name)
			continue
		}
		movable = append(movable, i)
	}
	errs := make([]error, len(tags))
	var wg sync.WaitGroup
	for _, i := range movable {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ref := repo.Tag(tags[i].Name)
			if err := remote.Tag(ref, a.taggable(), c.remote(ctx)...); err != nil {
				errs[i] = c.wrap(fmt.Errorf("tag %s: %w", ref, err), repo)
			}
		}()
	}
	wg.Wait()
	for _, i := range movable {
		if errs[i] != nil {
			report.NotSet = append(report.NotSet, TagState{Tag: tags[i].Name, Why: errs[i].Error(), err: errs[i]})
		} else {
			report.Set = append(report.Set, tags[i].Name)
		}
	}
	if len(conflicts) > 0 {
		report.Conflict = c.conflict(conflicts, digest)
	}
	if len(report.NotSet) > 0 {
		return res, report
	}
	return res, nil
}

// setImmutable writes one immutable tag and reads it back. was is the
// digest the tag named at the check ("" when absent). A *lostError says
// the tag names another digest now.
func (c *Client) setImmutable(ctx context.Context, a Artifact, repo name.Repository, tag, was string, digest v1.Hash) error {
	ref := repo.Tag(tag)
	if was != digest.String() {
		// Create only: "*" means any current manifest, whatever ETags
		// the registry uses. A move (--overwrite) goes unconditionally:
		// If-Match would need the registry's ETag for the old manifest,
		// which is the quoted digest on distribution but not everywhere.
		wctx := ctx
		if was == "" {
			wctx = withCondition(ctx, http.Header{"If-None-Match": {"*"}})
		}
		err := remote.Tag(ref, a.taggable(), c.remote(wctx)...)
		var te *transport.Error
		if err != nil && !(errors.As(err, &te) && te.StatusCode == http.StatusPreconditionFailed) {
			return c.wrap(fmt.Errorf("tag %s: %w", ref, err), repo)
		}
		// 412: the registry kept what another run wrote; the read-back
		// says whether that is this digest.
	}
	now, err := c.head(ctx, ref)
	if err != nil {
		return c.wrap(fmt.Errorf("read back tag %s: %w", ref, err), repo)
	}
	if now != digest.String() {
		return &lostError{now: describe(now)}
	}
	return nil
}

// lostError is an immutable tag that, read back, names another digest.
type lostError struct{ now string }

func (e *lostError) Error() string { return "the tag names " + e.now }

func describe(d string) string {
	if d == "" {
		return "absent"
	}
	return d
}

// readTags reads the tags at the indexes given (every tag when which is
// nil), at once: the digest each names, "" when it is absent (see head).
// doing names the read in an error: "look up", "read back".
func (c *Client) readTags(ctx context.Context, repo name.Repository, tags []Tag, which []int, doing string) ([]string, error) {
	if which == nil {
		which = make([]int, len(tags))
		for i := range tags {
			which[i] = i
		}
	}
	now := make([]string, len(tags))
	errs := make([]error, len(tags))
	var wg sync.WaitGroup
	for _, i := range which {
		wg.Go(func() { now[i], errs[i] = c.head(ctx, repo.Tag(tags[i].Name)) })
	}
	wg.Wait()
	for _, i := range which {
		if errs[i] != nil {
			return nil, c.wrap(fmt.Errorf("%s tag %s: %w", doing, repo.Tag(tags[i].Name), errs[i]), repo)
		}
	}
	return now, nil
}

// head is the digest ref names, "" when it is absent.
func (c *Client) head(ctx context.Context, ref name.Reference) (string, error) {
	d, err := remote.Head(ref, c.remote(ctx)...)
	var te *transport.Error
	switch {
	case errors.As(err, &te) && te.StatusCode == http.StatusNotFound:
		return "", nil
	case err != nil:
		return "", err
	}
	return d.Digest.String(), nil
}

// TagState is a tag a push did not set, and why.
type TagState struct {
	Tag string
	Why string
	err error
}

// TagError says which tags of a push are set and which are not, and, when
// an immutable tag was lost to another digest, both digests. It wraps
// ErrTagConflict then, and the tag writes' own errors.
type TagError struct {
	Repository string
	Digest     string
	// Conflict is set when an immutable tag names another digest.
	Conflict string
	Set      []string
	NotSet   []TagState
}

func (e *TagError) Error() string {
	var b strings.Builder
	if e.Conflict != "" {
		fmt.Fprintf(&b, "%s: %s; ", e.Repository, e.Conflict)
	}
	fmt.Fprintf(&b, "tags of %s@%s: set: ", e.Repository, e.Digest)
	if len(e.Set) == 0 {
		b.WriteString("none")
	}
	b.WriteString(strings.Join(e.Set, ", "))
	b.WriteString("; not set: ")
	for i, s := range e.NotSet {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s (%s)", s.Tag, s.Why)
	}
	if e.Conflict == "" {
		b.WriteString("; running again sets the tags that are not set")
	}
	return b.String()
}

func (e *TagError) Unwrap() []error {
	var errs []error
	if e.Conflict != "" {
		errs = append(errs, ErrTagConflict)
	}
	for _, s := range e.NotSet {
		if s.err != nil {
			errs = append(errs, s.err)
		}
	}
	return errs
}

// checkTags returns the digest each tag names now ("" when absent) and an
// error naming every immutable tag that would move.
func (c *Client) checkTags(ctx context.Context, repo name.Repository, tags []Tag, digest v1.Hash) ([]string, error) {
	states, err := c.readTags(ctx, repo, tags, nil, "look up")
	if err != nil {
		return nil, err
	}
	var conflicts []string
	for i, t := range tags {
		if t.Immutable && states[i] != "" && states[i] != digest.String() && !c.opts.Overwrite {
			conflicts = append(conflicts, fmt.Sprintf("%s is %s", t.Name, states[i]))
		}
	}
	if len(conflicts) > 0 {
		return nil, fmt.Errorf("%s: %s: %w", repo, c.conflict(conflicts, digest), ErrTagConflict)
	}
	return states, nil
}

// conflict says why immutable tags that name another digest ("tag is
// sha256:...") are not this push's. Without --overwrite the push refused
// to move them; with it, they were lost to a run that wrote at the same
// time, and --overwrite would not have helped.
func (c *Client) conflict(conflicts []string, digest v1.Hash) string {
	if c.opts.Overwrite {
		return fmt.Sprintf("%s, written by another run at the same time as this one moved them to %s (--overwrite moves a tag, but of two writes at once the later stays)",
			strings.Join(conflicts, ", "), digest)
	}
	return fmt.Sprintf("refusing to move %s to %s (commit and release tags are immutable; --overwrite moves them)",
		strings.Join(conflicts, ", "), digest)
}

func (c *Client) wrap(err error, repo name.Repository) error {
	return c.keys.explain(err, repo.RegistryStr())
}
