package engine

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

// MaxCopyOutSize is the largest file CopyOut copies: a test report, not
// a disk image.
const MaxCopyOutSize = 64 << 20

// ErrTooLarge is returned (wrapped) by CopyOut for a file over
// MaxCopyOutSize.
var ErrTooLarge = errors.New("file too large")

// CopyOut writes the content of one regular file of a container, running or
// stopped, to dst. A symbolic link is followed once. A missing file is an
// error wrapping fs.ErrNotExist.
func (e *Engine) CopyOut(ctx context.Context, containerID, file string, dst io.Writer) error {
	err := e.copyOut(ctx, containerID, file, dst, 1)
	if err != nil {
		return fmt.Errorf("copy %s out of container %s: %w", file, short(containerID), err)
	}
	return nil
}

func (e *Engine) copyOut(ctx context.Context, containerID, file string, dst io.Writer, links int) error {
	res, err := e.client.CopyFromContainer(ctx, containerID, client.CopyFromContainerOptions{SourcePath: file})
	if cerrdefs.IsNotFound(err) {
		return fs.ErrNotExist
	}
	if err != nil {
		return err
	}
	defer res.Content.Close()
	mode := res.Stat.Mode
	switch {
	case mode&fs.ModeSymlink != 0 && links > 0:
		target := res.Stat.LinkTarget
		if !path.IsAbs(target) {
			target = path.Join(path.Dir(file), target)
		}
		return e.copyOut(ctx, containerID, target, dst, links-1)
	case !mode.IsRegular():
		return fmt.Errorf("not a regular file (%v)", mode)
	case res.Stat.Size > MaxCopyOutSize:
		return fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, res.Stat.Size, MaxCopyOutSize)
	}
	tr := tar.NewReader(res.Content)
	hdr, err := tr.Next()
	if err != nil {
		return fmt.Errorf("read archive: %w", err)
	}
	if hdr.Typeflag != tar.TypeReg || hdr.Size > MaxCopyOutSize {
		return fmt.Errorf("unexpected archive entry %q (type %c, %d bytes)", hdr.Name, hdr.Typeflag, hdr.Size)
	}
	_, err = io.Copy(dst, io.LimitReader(tr, MaxCopyOutSize))
	return err
}
